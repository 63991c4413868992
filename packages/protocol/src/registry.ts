/**
 * The message-type registry: which event types exist and the JSON Schema their `data`
 * must match. Built-in payment types, plus
 * - one schema file per type from a directory (`EVENT_SCHEMAS_DIR`): `<type>.json`,
 *   holding the JSON Schema of `data`;
 * - the spec's registry file (`MESSAGE_TYPES_FILE`, PROTOCOL.md section 10): YAML
 *   documents of kind `WebSocketMessageType`, each listing types with a description and
 *   a schema. A type listed there replaces the built-in one of the same name.
 *
 * Imported as `@herald/protocol/registry` so the browser SDK never pulls in Ajv.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Scalar } from 'yaml';
import type { FieldError } from './problems.js';
import { BUILTIN_SCHEMAS } from './schemas/payment.js';
import { errorSegments, rulesAjv, toFieldErrors } from './schema-rules.js';

export { MESSAGE_KEYWORD, errorSegments, fieldPath, rulesAjv, toFieldErrors, type ErrorObject, type ValidateFunction } from './schema-rules.js';

export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
export const MAX_EVENT_TYPE_LENGTH = 100;

export const MESSAGE_TYPE_API_VERSION = 'api.example.com/v1';
export const MESSAGE_TYPE_KIND = 'WebSocketMessageType';

/**
 * One document of the registry file. `metadata` may carry more than its name (labels,
 * annotations), as resources do; everything else is closed, so a misspelt field is
 * reported rather than ignored. Event type names follow EVENT_TYPE_PATTERN.
 */
export const MESSAGE_TYPE_DOCUMENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'herald:WebSocketMessageType',
  title: MESSAGE_TYPE_KIND,
  type: 'object',
  message: 'must be a mapping with apiVersion, kind, metadata and spec',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: MESSAGE_TYPE_API_VERSION, message: `must be "${MESSAGE_TYPE_API_VERSION}"` },
    kind: { const: MESSAGE_TYPE_KIND, message: `must be "${MESSAGE_TYPE_KIND}"` },
    metadata: {
      type: 'object',
      message: 'must be a mapping with a name',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1, message: 'must be a non-empty string' } },
    },
    spec: {
      type: 'object',
      message: 'must be a mapping with types',
      required: ['types'],
      additionalProperties: false,
      properties: {
        types: {
          type: 'array',
          minItems: 1,
          message: 'must be a non-empty list of types',
          items: {
            type: 'object',
            message: 'must be a mapping with name, description and schema',
            required: ['name', 'description', 'schema'],
            additionalProperties: false,
            properties: {
              name: {
                type: 'string',
                maxLength: MAX_EVENT_TYPE_LENGTH,
                pattern: EVENT_TYPE_PATTERN.source,
                message: `must be an event type name: dot-separated parts of letters, digits, "_" or "-", at most ${MAX_EVENT_TYPE_LENGTH} characters`,
              },
              description: { type: 'string', message: 'must be a string' },
              schema: { type: 'object', message: 'must be a JSON Schema (a mapping)' },
            },
          },
        },
      },
    },
  },
} as const;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

/** What a registry file added: every type it lists, and those that replaced a built-in one. */
export interface LoadedTypes {
  readonly types: string[];
  readonly replacedBuiltins: string[];
}

interface MessageTypeDocument {
  metadata: { name: string };
  spec: { types: Array<{ name: string; description: string; schema: Record<string, unknown> }> };
}

/** A type read from the registry file, and where it is. */
interface ListedType {
  readonly name: string;
  readonly description: string;
  readonly schema: object;
  /** `document <n> "<metadata.name>"` */
  readonly document: string;
  readonly line: number;
  /** `<file>:<line>: document <n> "<metadata.name>": type "<name>"`, how error lines begin. */
  readonly where: string;
  /** The same, at the line of its schema. */
  readonly schemaWhere: string;
}

const BUILTIN = 'built in';

let documentValidator: ValidateFunction | undefined;

export class MessageTypeRegistry {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly schemas = new Map<string, object>();
  private readonly descriptions = new Map<string, string>();
  /** Where each type comes from: built in, a schema file, or a place in the registry file. */
  private readonly sources = new Map<string, string>();

  /** A registry holding the built-in `payment.*` types. */
  static withBuiltins(): MessageTypeRegistry {
    const registry = new MessageTypeRegistry();
    for (const [type, schema] of Object.entries(BUILTIN_SCHEMAS)) registry.add(type, schema, BUILTIN);
    return registry;
  }

  register(type: string, schema: object): void {
    this.add(type, schema, 'register()');
  }

  /** Loads every `<type>.json` of a directory; returns the types it registered. */
  loadDirectory(directory: string): string[] {
    let names: string[];
    try {
      names = readdirSync(directory).filter((name) => name.endsWith('.json')).sort();
    } catch (error) {
      throw new RegistryError(`cannot read schema directory ${directory}: ${(error as Error).message}`);
    }
    const loaded: string[] = [];
    for (const name of names) {
      const type = name.slice(0, -'.json'.length);
      let schema: unknown;
      try {
        schema = JSON.parse(readFileSync(join(directory, name), 'utf8'));
      } catch (error) {
        throw new RegistryError(`schema file ${name} is not valid JSON: ${(error as Error).message}`);
      }
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
        throw new RegistryError(`schema file ${name} must hold a JSON object`);
      }
      this.add(type, schema, `schema file ${join(directory, name)}`);
      loaded.push(type);
    }
    return loaded;
  }

  /**
   * Loads the registry file (PROTOCOL.md section 10): every type of every document, or
   * nothing. A RegistryError names the file and line, the document (counted from 1, with
   * its metadata.name) and the type: a file that does not parse, a document that is not
   * a `WebSocketMessageType` of `api.example.com/v1` with every field, a type name listed
   * twice or already given by a schema file, a schema that does not compile.
   */
  loadFile(file: string): LoadedTypes {
    const listed = readMessageTypesFile(file);
    const compiled = listed.map((type) => {
      const earlier = this.sources.get(type.name);
      if (earlier !== undefined && earlier !== BUILTIN) throw new RegistryError(`${type.where}: also defined by ${earlier}`);
      return { type, validate: this.compile(type.schema, type.schemaWhere) };
    });
    const replacedBuiltins: string[] = [];
    for (const { type, validate } of compiled) {
      if (this.sources.get(type.name) === BUILTIN) replacedBuiltins.push(type.name);
      this.set(type.name, type.schema, validate, `${file} ${type.document}`, type.description);
    }
    return { types: listed.map((type) => type.name), replacedBuiltins };
  }

  has(type: string): boolean {
    return this.validators.has(type);
  }

  types(): string[] {
    return [...this.validators.keys()].sort();
  }

  schemaOf(type: string): object | undefined {
    return this.schemas.get(type);
  }

  /** The description a registry file gave a type, or its schema's `description`. */
  descriptionOf(type: string): string | undefined {
    const schema = this.schemas.get(type) as { description?: unknown } | undefined;
    return this.descriptions.get(type) ?? (typeof schema?.description === 'string' ? schema.description : undefined);
  }

  /**
   * Validates `data` against the schema of `type`. Returns the failing fields (empty
   * when valid), with paths prefixed by `fieldPrefix` (`data` by default).
   */
  validate(type: string, data: unknown, fieldPrefix = 'data'): FieldError[] {
    const validate = this.validators.get(type);
    if (!validate) throw new RegistryError(`unknown event type "${type}"`);
    if (validate(data)) return [];
    return toFieldErrors(validate.errors, fieldPrefix);
  }

  private add(type: string, schema: object, source: string): void {
    if (!EVENT_TYPE_PATTERN.test(type) || type.length > MAX_EVENT_TYPE_LENGTH) {
      throw new RegistryError(`invalid event type name "${type}"`);
    }
    this.set(type, schema, this.compile(schema, `schema of "${type}"`), source, undefined);
  }

  private compile(schema: object, where: string): ValidateFunction {
    // A schema may carry its own $id; registering it twice under Ajv would clash.
    const { $id: _ignored, ...withoutId } = schema as Record<string, unknown>;
    try {
      return this.ajv.compile(withoutId);
    } catch (error) {
      throw new RegistryError(`${where} does not compile: ${oneLine((error as Error).message)}`);
    }
  }

  private set(type: string, schema: object, validate: ValidateFunction, source: string, description: string | undefined): void {
    this.validators.set(type, validate);
    this.schemas.set(type, schema);
    this.sources.set(type, source);
    if (description === undefined) this.descriptions.delete(type);
    else this.descriptions.set(type, description);
  }
}

/**
 * Reads and checks the registry file: YAML syntax, each document against
 * MESSAGE_TYPE_DOCUMENT_SCHEMA, type names unique across documents. Empty documents
 * (a stray `---`) are skipped but still counted, so numbers match the file.
 */
function readMessageTypesFile(file: string): ListedType[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RegistryError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lines.linePos(offset).line);
  const validate = (documentValidator ??= rulesAjv().compile(MESSAGE_TYPE_DOCUMENT_SCHEMA));
  const listed: ListedType[] = [];
  const byName = new Map<string, ListedType>();
  documents.forEach((document, index) => {
    const number = index + 1;
    const syntax = document.errors[0];
    if (syntax !== undefined) {
      const position = lines.linePos(syntax.pos[0]);
      throw new RegistryError(`${file}:${position.line}:${position.col}: document ${number}: not valid YAML: ${oneLine(syntax.message)}`);
    }
    let value: unknown;
    try {
      value = document.toJS();
    } catch (error) {
      throw new RegistryError(`${file}:${lineOf(document.range[0])}: document ${number}: not valid YAML: ${oneLine((error as Error).message)}`);
    }
    if (value === null || value === undefined) return;
    const metadataName = (value as { metadata?: { name?: unknown } }).metadata?.name;
    const label = `document ${number}${typeof metadataName === 'string' && metadataName !== '' ? ` ${JSON.stringify(metadataName)}` : ''}`;
    if (!validate(value)) {
      const error = validate.errors![0]!;
      const [fieldError] = toFieldErrors([error]);
      const segments = errorSegments(error);
      // A missing property is reported at the mapping that lacks it.
      const at = error.keyword === 'required' ? segments.slice(0, -1) : segments;
      const typeIndex = at[0] === 'spec' && at[1] === 'types' && at[2] !== undefined ? Number(at[2]) : undefined;
      const typeName = typeIndex === undefined ? undefined : (value as { spec: { types: Array<{ name?: unknown }> } }).spec.types[typeIndex]?.name;
      const type = typeIndex === undefined ? '' : `: type ${typeof typeName === 'string' ? JSON.stringify(typeName) : `#${typeIndex + 1}`}`;
      const got = error.keyword === 'const' ? ` (got ${shorten(JSON.stringify(error.data) ?? 'nothing')})` : '';
      const what = `${fieldError!.field === '(body)' ? 'the document' : fieldError!.field} ${fieldError!.message}${got}`;
      throw new RegistryError(`${file}:${lineOf(nodeOffset(document, at))}: ${label}${type}: ${what}`);
    }
    (value as MessageTypeDocument).spec.types.forEach((type, typeIndex) => {
      const line = lineOf(nodeOffset(document, ['spec', 'types', String(typeIndex)]));
      const schemaLine = lineOf(nodeOffset(document, ['spec', 'types', String(typeIndex), 'schema']));
      const entry: ListedType = {
        name: type.name,
        description: type.description,
        schema: type.schema,
        document: label,
        line,
        where: `${file}:${line}: ${label}: type ${JSON.stringify(type.name)}`,
        schemaWhere: `${file}:${schemaLine}: ${label}: type ${JSON.stringify(type.name)}: schema`,
      };
      const first = byName.get(type.name);
      if (first !== undefined) throw new RegistryError(`${entry.where}: listed twice, first in ${first.document} at line ${first.line}`);
      byName.set(type.name, entry);
      listed.push(entry);
    });
  });
  if (listed.length === 0) throw new RegistryError(`${file}: holds no ${MESSAGE_TYPE_KIND} document`);
  return listed;
}

/**
 * Offset in the file where the value at `path` is written: its key in a mapping, its
 * item in a list, or the nearest enclosing one that exists.
 */
function nodeOffset(document: Document.Parsed, path: readonly string[]): number | undefined {
  let node: unknown = document.contents;
  let offset = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? document.range[0];
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
      if (pair === undefined) break;
      offset = (pair.key as Scalar).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(key)];
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range === undefined) break;
      offset = range[0];
    } else {
      break;
    }
  }
  return offset;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
