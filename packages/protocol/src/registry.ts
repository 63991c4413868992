/**
 * The message-type registry: which event types exist and the JSON Schema their `data`
 * must match. Built-in payment types, plus one schema file per type from a directory
 * (`EVENT_SCHEMAS_DIR`): `<type>.json`, holding the JSON Schema of `data`.
 *
 * Imported as `@herald/protocol/registry` so the browser SDK never pulls in Ajv.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FieldError } from './problems.js';
import { BUILTIN_SCHEMAS } from './schemas/payment.js';
import { toFieldErrors } from './schema-rules.js';

export { MESSAGE_KEYWORD, errorSegments, fieldPath, rulesAjv, toFieldErrors, type ErrorObject, type ValidateFunction } from './schema-rules.js';

export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
export const MAX_EVENT_TYPE_LENGTH = 100;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

export class MessageTypeRegistry {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly schemas = new Map<string, object>();

  /** A registry holding the built-in `payment.*` types. */
  static withBuiltins(): MessageTypeRegistry {
    const registry = new MessageTypeRegistry();
    for (const [type, schema] of Object.entries(BUILTIN_SCHEMAS)) registry.register(type, schema);
    return registry;
  }

  register(type: string, schema: object): void {
    if (!EVENT_TYPE_PATTERN.test(type) || type.length > MAX_EVENT_TYPE_LENGTH) {
      throw new RegistryError(`invalid event type name "${type}"`);
    }
    // A schema file may carry its own $id; registering it twice under Ajv would clash.
    const { $id: _ignored, ...withoutId } = schema as Record<string, unknown>;
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(withoutId);
    } catch (error) {
      throw new RegistryError(`schema of "${type}" does not compile: ${(error as Error).message}`);
    }
    this.validators.set(type, validate);
    this.schemas.set(type, schema);
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
      this.register(type, schema);
      loaded.push(type);
    }
    return loaded;
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
}
