/**
 * JSON Schema rules and their failures as field errors. Herald's own input rules (the
 * ingest envelope and batch body, the routes file, the message-type registry file) are
 * JSON Schemas (2020-12) compiled by `rulesAjv`; the registry's event schemas by its own
 * Ajv. Either way `toFieldErrors` is the one place where Ajv's errors become the
 * `errors` of a problem document: `{field: 'events[3].data.amount', message}`.
 *
 * Imported through `@herald/protocol/registry`, so the browser SDK never pulls in Ajv.
 */
import { Ajv2020, type ErrorObject, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FieldError } from './problems.js';

export type { ErrorObject, ValidateFunction };

/**
 * The keyword a rule schema uses to say, in the project's words, what a value must be:
 * `{type: 'string', minLength: 1, message: 'must be a non-empty string'}`. It replaces
 * Ajv's text for any keyword of that schema that fails, except `required` and unknown
 * properties (`is required`, `is not allowed`), which belong to the missing or extra field.
 */
export const MESSAGE_KEYWORD = 'message';

/**
 * An Ajv for rule schemas: every error (`allErrors`), each carrying the schema that
 * failed (`verbose`, where `toFieldErrors` finds its `message`), strict about anything
 * else a schema says.
 */
export function rulesAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, ...options });
  ajv.addKeyword({ keyword: MESSAGE_KEYWORD, schemaType: 'string' });
  return ajv;
}

/**
 * Ajv's errors as field errors, in Ajv's order, each (field, message) once. `prefix`
 * names the validated value in paths (`data`, `events[3]`); '' for a whole body, whose
 * own failures are then named `(body)`.
 */
export function toFieldErrors(errors: readonly ErrorObject[] | null | undefined, prefix = ''): FieldError[] {
  const result: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    const fieldError = toFieldError(error, prefix);
    const key = `${fieldError.field}\n${fieldError.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(fieldError);
  }
  return result;
}

/** The path segments of the value an error is about (a missing or extra property included). */
export function errorSegments(error: ErrorObject): string[] {
  const segments = error.instancePath === '' ? [] : error.instancePath.split('/').slice(1).map(unescapePointer);
  const property = namedProperty(error);
  if (property !== undefined) segments.push(property);
  return segments;
}

/** `prefix` followed by `segments`: `.key` for properties, `[3]` for array indexes. */
export function fieldPath(prefix: string, segments: readonly string[]): string {
  let path = prefix;
  for (const segment of segments) path += /^\d+$/.test(segment) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  return path === '' ? '(body)' : path;
}

function toFieldError(error: ErrorObject, prefix: string): FieldError {
  const field = fieldPath(prefix, errorSegments(error));
  switch (error.keyword) {
    case 'required':
      return { field, message: 'is required' };
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return { field, message: 'is not allowed' };
    default: {
      const own = (error.parentSchema as Record<string, unknown> | undefined)?.[MESSAGE_KEYWORD];
      return { field, message: typeof own === 'string' ? own : (error.message ?? 'is invalid') };
    }
  }
}

function namedProperty(error: ErrorObject): string | undefined {
  const params = error.params as { missingProperty?: unknown; additionalProperty?: unknown; unevaluatedProperty?: unknown };
  switch (error.keyword) {
    case 'required':
      return String(params.missingProperty);
    case 'additionalProperties':
      return String(params.additionalProperty);
    case 'unevaluatedProperties':
      return String(params.unevaluatedProperty);
    default:
      return undefined;
  }
}

function unescapePointer(part: string): string {
  return part.replace(/~1/g, '/').replace(/~0/g, '~');
}
