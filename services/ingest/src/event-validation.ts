/**
 * Validation of one incoming domain event (PROTOCOL.md section 7): the envelope fields
 * `type`, `id`, `timestamp`, `data`, then `data` against the registry's JSON Schema.
 * Used alike by the HTTP API and the Redis stream consumer.
 */
import { Problem, type FieldError, type ProblemDefinition } from '@herald/protocol';
import type { MessageTypeRegistry } from '@herald/protocol/registry';

/** An event that passed validation; `id` and `timestamp` may still be absent. */
export interface ValidEvent {
  readonly type: string;
  readonly id: string | undefined;
  /** ISO 8601 UTC with milliseconds, normalised. */
  readonly timestamp: string | undefined;
  readonly data: Record<string, unknown>;
}

export type EventValidation =
  | { ok: true; event: ValidEvent }
  | { ok: false; problem: ProblemDefinition; detail: string; errors: FieldError[] };

export const EVENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const KNOWN_FIELDS = new Set(['type', 'id', 'timestamp', 'data']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `prefix` names the event in field paths (`events[3]` in a batch, '' alone). */
export function validateEvent(raw: unknown, registry: MessageTypeRegistry, prefix = ''): EventValidation {
  const at = (field: string) => (prefix === '' ? field : `${prefix}.${field}`);
  if (!isObject(raw)) {
    return invalid([{ field: prefix === '' ? '(body)' : prefix, message: 'must be a JSON object' }]);
  }
  const errors: FieldError[] = [];
  for (const key of Object.keys(raw)) if (!KNOWN_FIELDS.has(key)) errors.push({ field: at(key), message: 'is not allowed' });

  const { type, id, timestamp, data } = raw;
  if (typeof type !== 'string' || type.length === 0) errors.push({ field: at('type'), message: type === undefined ? 'is required' : 'must be a non-empty string' });
  if (id !== undefined && (typeof id !== 'string' || !EVENT_ID_PATTERN.test(id))) {
    errors.push({ field: at('id'), message: 'must be 1 to 128 letters, digits, "_", "-", "." or ":"' });
  }
  let normalisedTimestamp: string | undefined;
  if (timestamp !== undefined) {
    const parsed = parseTimestamp(timestamp);
    if (Number.isNaN(parsed)) errors.push({ field: at('timestamp'), message: 'must be an ISO 8601 date-time with a time zone' });
    else normalisedTimestamp = new Date(parsed).toISOString();
  }
  if (!isObject(data)) errors.push({ field: at('data'), message: data === undefined ? 'is required' : 'must be a JSON object' });
  if (errors.length > 0) return invalid(errors);

  const eventType = type as string;
  if (!registry.has(eventType)) {
    return {
      ok: false,
      problem: Problem.unknownEventType,
      detail: `Event type "${eventType}" is not registered; known types: ${registry.types().join(', ')}`,
      errors: [{ field: at('type'), message: 'is not a registered event type' }],
    };
  }
  const dataErrors = registry.validate(eventType, data, at('data'));
  if (dataErrors.length > 0) return invalid(dataErrors);
  return { ok: true, event: { type: eventType, id: id as string | undefined, timestamp: normalisedTimestamp, data: data as Record<string, unknown> } };
}

/** Epoch ms of an ISO 8601 date-time with a zone, or NaN. */
function parseTimestamp(value: unknown): number {
  const match = typeof value === 'string' ? ISO_8601.exec(value) : null;
  if (!match) return Number.NaN;
  // Date.parse rolls a day that does not exist over (2026-02-30 becomes March 2): refuse it.
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days) return Number.NaN;
  return Date.parse(value as string);
}

function invalid(errors: FieldError[]): EventValidation {
  const detail = errors.map((error) => `${error.field} ${error.message}`).join('; ');
  return { ok: false, problem: Problem.validationFailed, detail, errors };
}
