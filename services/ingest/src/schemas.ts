/**
 * The ingest's own input rules as JSON Schemas (2020-12), compiled once by Ajv: the
 * event envelope (PROTOCOL.md section 7), the batch body and the routes file. An event's
 * `data` is checked afterwards against its type's schema from the message-type registry.
 * Failures become field errors through the registry's `toFieldErrors`; each schema's
 * `message` is what the producer or operator reads.
 */
import { rulesAjv, type ValidateFunction } from '@herald/protocol/registry';

/** Event ids (and `Idempotency-Key`): 1 to 128 of `A-Z a-z 0-9 _ - . :`. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const MAX_BATCH_EVENTS = 500;
/** The format of `timestamp`: ISO 8601 with a time zone, on a day that exists. */
export const TIMESTAMP_FORMAT = 'zoned-date-time';

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Epoch ms of an ISO 8601 date-time with a zone, or NaN. */
export function parseTimestamp(value: string): number {
  const match = ISO_8601.exec(value);
  if (!match) return Number.NaN;
  // Date.parse rolls a day that does not exist over (2026-02-30 becomes March 2): refuse it.
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days) return Number.NaN;
  return Date.parse(value);
}

/** One event: `type` and `data` required, `id` and `timestamp` optional, nothing else. */
export const EVENT_ENVELOPE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'herald:ingest/event',
  title: 'Ingest event',
  type: 'object',
  message: 'must be a JSON object',
  required: ['type', 'data'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', minLength: 1, message: 'must be a non-empty string' },
    id: { type: 'string', pattern: EVENT_ID_PATTERN.source, message: 'must be 1 to 128 letters, digits, "_", "-", "." or ":"' },
    timestamp: { type: 'string', format: TIMESTAMP_FORMAT, message: 'must be an ISO 8601 date-time with a time zone' },
    data: { type: 'object', message: 'must be a JSON object' },
  },
} as const;

/** `POST /v1/events:batch`: `{"events": [...]}` with 1 to 500 events, nothing else. Each event is then checked alone. */
export const BATCH_BODY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'herald:ingest/batch',
  title: 'Ingest batch',
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: {
    events: { type: 'array', minItems: 1, maxItems: MAX_BATCH_EVENTS },
  },
} as const;

/**
 * ROUTES_FILE: `{"routes": [{"match": "payment.*", "channels": ["merchant:{data.merchant_id}"]}]}`.
 * Whether each template makes a valid channel name is checked when the route compiles.
 */
export const ROUTES_FILE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'herald:ingest/routes',
  title: 'Routes file',
  type: 'object',
  required: ['routes'],
  properties: {
    routes: {
      type: 'array',
      items: {
        type: 'object',
        message: 'must be an object with match and channels',
        required: ['match', 'channels'],
        properties: {
          match: { type: 'string', minLength: 1, message: 'must be a non-empty string' },
          channels: {
            type: 'array',
            minItems: 1,
            message: 'must be a non-empty array of strings',
            items: { type: 'string', message: 'must be a string' },
          },
        },
      },
    },
  },
} as const;

const ajv = rulesAjv({ formats: { [TIMESTAMP_FORMAT]: { type: 'string', validate: (value: string) => !Number.isNaN(parseTimestamp(value)) } } });

export const validateEnvelope: ValidateFunction = ajv.compile(EVENT_ENVELOPE_SCHEMA);
export const validateBatchBody: ValidateFunction = ajv.compile(BATCH_BODY_SCHEMA);
export const validateRoutesFile: ValidateFunction = ajv.compile(ROUTES_FILE_SCHEMA);
