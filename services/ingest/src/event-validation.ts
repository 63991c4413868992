/**
 * Validation of one incoming domain event (PROTOCOL.md section 7): the envelope fields
 * `type`, `id`, `timestamp`, `data` (EVENT_ENVELOPE_SCHEMA), then `data` against the
 * registry's JSON Schema of its type. Used alike by the HTTP API and the Redis stream
 * consumer.
 */
import { Problem, type FieldError, type ProblemDefinition } from '@herald/protocol';
import { toFieldErrors, type ErrorObject, type MessageTypeRegistry } from '@herald/protocol/registry';
import { validateEnvelope } from './schemas.js';

export { EVENT_ID_PATTERN } from './schemas.js';

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

interface Envelope {
  type: string;
  id?: string;
  timestamp?: string;
  data: Record<string, unknown>;
}

/** The order envelope errors are reported in: unknown fields first, then these. */
const FIELD_ORDER = ['type', 'id', 'timestamp', 'data'];

/** `prefix` names the event in field paths (`events[3]` in a batch, '' alone). */
export function validateEvent(raw: unknown, registry: MessageTypeRegistry, prefix = ''): EventValidation {
  const at = (field: string) => (prefix === '' ? field : `${prefix}.${field}`);
  if (!validateEnvelope(raw)) {
    const errors = [...(validateEnvelope.errors ?? [])].sort((a, b) => fieldRank(a) - fieldRank(b));
    return invalid(toFieldErrors(errors, prefix));
  }
  const { type, id, timestamp, data } = raw as Envelope;
  if (!registry.has(type)) {
    return {
      ok: false,
      problem: Problem.unknownEventType,
      detail: `Event type "${type}" is not registered; known types: ${registry.types().join(', ')}`,
      errors: [{ field: at('type'), message: 'is not a registered event type' }],
    };
  }
  const dataErrors = registry.validate(type, data, at('data'));
  if (dataErrors.length > 0) return invalid(dataErrors);
  // The schema's format checked the calendar date; Date.parse reads the zone.
  const normalisedTimestamp = timestamp === undefined ? undefined : new Date(Date.parse(timestamp)).toISOString();
  return { ok: true, event: { type, id, timestamp: normalisedTimestamp, data } };
}

function fieldRank(error: ErrorObject): number {
  if (error.keyword === 'additionalProperties') return 0;
  const field = error.keyword === 'required' ? String((error.params as { missingProperty: string }).missingProperty) : error.instancePath.split('/')[1];
  return FIELD_ORDER.indexOf(field ?? '') + 1;
}

function invalid(errors: FieldError[]): EventValidation {
  const detail = errors.map((error) => `${error.field} ${error.message}`).join('; ');
  return { ok: false, problem: Problem.validationFailed, detail, errors };
}
