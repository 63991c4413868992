/**
 * JSON Schemas (draft 2020-12) of the built-in payment event types (PROTOCOL.md
 * section 7). Identifier fields are restricted to characters that are safe inside a
 * channel segment, because routing turns them into channel names.
 */

const identifier = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_.-]+$',
} as const;

/** Minor units: never negative, and exact in every JSON consumer (at most 2^53 - 1). */
const amount = {
  type: 'integer',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Amount in minor units (cents).',
} as const;

/** ISO 4217 alphabetic code. */
const currency = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code.' } as const;

/**
 * A payment status as providers spell them (`pending`, `requires_action`, `AUTHORISED`):
 * a word of letters, digits, `_`, `-` or `.`, so no control character, space or markup
 * reaches a dashboard.
 */
const status = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_.-]*$' } as const;

export const paymentCreatedSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'herald:payment.created',
  title: 'payment.created',
  description: 'A payment was created.',
  type: 'object',
  required: ['payment_id', 'order_id', 'merchant_id', 'amount', 'currency', 'status'],
  properties: {
    payment_id: identifier,
    order_id: identifier,
    merchant_id: identifier,
    amount,
    currency,
    status,
  },
} as const;

export const paymentUpdatedSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'herald:payment.updated',
  title: 'payment.updated',
  description: 'A payment changed, usually its status.',
  type: 'object',
  required: ['payment_id', 'merchant_id', 'status'],
  properties: {
    payment_id: identifier,
    order_id: identifier,
    merchant_id: identifier,
    amount,
    currency,
    status,
  },
} as const;

export const BUILTIN_SCHEMAS: Readonly<Record<string, object>> = {
  'payment.created': paymentCreatedSchema,
  'payment.updated': paymentUpdatedSchema,
};
