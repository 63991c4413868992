/**
 * The typed fields of the built-in payment events, and the rule that keeps them
 * lossless (PROTOCOL.md section 9): a property of `data` fills its typed field only
 * when its value fits the field's type, and `extra` holds exactly the other properties.
 *
 * "Fits" is stricter than "has the right JSON type", because proto3 cannot tell a
 * non-optional field's default value from absence: a decoder that sees no `status`
 * cannot know whether the producer sent `""` or nothing. So:
 * - a string field takes a non-empty string; `""` travels in `extra`;
 * - an `int64` field takes a safe integer (JSON integers here are within +-(2^53-1));
 *   PaymentCreated.amount is not `optional`, so an amount of 0 travels in `extra`;
 *   PaymentUpdated.amount is `optional` (presence is on the wire) and takes 0;
 * - `-0` never fills an integer field (int64 has no negative zero); `extra` (a double)
 *   keeps it;
 * - anything else (a number for `payment_id`, `1.5` or `"100"` for `amount`, null, an
 *   object) travels in `extra` as it is.
 * Decoding puts the typed fields back first, then `extra`; nothing is lost and nothing
 * appears twice. (Should a foreign encoder send a key both ways, the typed field wins.)
 */
import type { PaymentCreated, PaymentUpdated } from '../gen/websocket/v1/websocket_pb.js';
import { setOwn, type JsonObject } from './json.js';

export type PaymentKind = 'created' | 'updated';

/** A typed field's value as written: a non-empty string, or an amount (a safe integer). */
export type TypedValue = string | number;

/** The properties of `data` that have a typed field, by their JSON names. */
export type PaymentFieldName = 'payment_id' | 'order_id' | 'merchant_id' | 'amount' | 'currency' | 'status';

type FieldKind = 'string' | 'int64' | 'optional-int64';

interface TypedField {
  readonly json: PaymentFieldName;
  /** The field's name in the generated message. */
  readonly local: 'paymentId' | 'orderId' | 'merchantId' | 'amount' | 'currency' | 'status';
  readonly kind: FieldKind;
}

function fields(amount: FieldKind): readonly TypedField[] {
  // The order of the JSON example (PROTOCOL.md section 3): decoded `data` lists its
  // keys in this order, so the common event comes back key for key.
  return [
    { json: 'payment_id', local: 'paymentId', kind: 'string' },
    { json: 'order_id', local: 'orderId', kind: 'string' },
    { json: 'merchant_id', local: 'merchantId', kind: 'string' },
    { json: 'amount', local: 'amount', kind: amount },
    { json: 'currency', local: 'currency', kind: 'string' },
    { json: 'status', local: 'status', kind: 'string' },
  ];
}

const FIELDS: Readonly<Record<PaymentKind, readonly TypedField[]>> = { created: fields('int64'), updated: fields('optional-int64') };
const BY_NAME: Readonly<Record<PaymentKind, ReadonlyMap<string, TypedField>>> = {
  created: new Map(FIELDS.created.map((field) => [field.json, field])),
  updated: new Map(FIELDS.updated.map((field) => [field.json, field])),
};

/** `value` when it fits the field (see the rule above), else undefined. */
function fit(kind: FieldKind, value: unknown): TypedValue | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value !== '' ? value : undefined;
    case 'int64':
      // `value !== 0` also turns away -0.
      return typeof value === 'number' && Number.isSafeInteger(value) && value !== 0 ? value : undefined;
    case 'optional-int64':
      return typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0) ? value : undefined;
  }
}

export interface PaymentSplit {
  /** The typed fields to write; a missing name is left unset. */
  readonly values: Partial<Record<PaymentFieldName, TypedValue>>;
  /** Every other property, or undefined when there is none (no `extra` on the wire). */
  readonly extra: JsonObject | undefined;
}

/** Splits `data` of a payment event between its typed fields and `extra`. */
export function splitPaymentData(kind: PaymentKind, data: JsonObject): PaymentSplit {
  const byName = BY_NAME[kind];
  const values: Partial<Record<PaymentFieldName, TypedValue>> = {};
  let extra: JsonObject | undefined;
  for (const key of Object.keys(data)) {
    const value = data[key]!;
    const field = byName.get(key);
    const wire = field === undefined ? undefined : fit(field.kind, value);
    if (wire !== undefined) values[field!.json] = wire;
    else setOwn((extra ??= {}), key, value);
  }
  return { values, extra };
}

/** `data` back from a typed message: the fields that are set, then `extra`. */
function join(kind: PaymentKind, message: PaymentCreated | PaymentUpdated): JsonObject {
  const data: JsonObject = {};
  for (const field of FIELDS[kind]) {
    const value: string | bigint | undefined = message[field.local];
    if (typeof value === 'string') {
      if (value !== '') data[field.json] = value;
    } else if (typeof value === 'bigint') {
      // PaymentCreated.amount 0 is "not set"; PaymentUpdated.amount has presence.
      if (value !== 0n || field.kind === 'optional-int64') data[field.json] = numberOf(value, field.json);
    }
  }
  const extra = message.extra;
  if (extra !== undefined) {
    for (const key of Object.keys(extra)) if (!Object.hasOwn(data, key)) setOwn(data, key, extra[key]!);
  }
  return data;
}

function numberOf(value: bigint, name: string): number {
  const number = Number(value);
  // Only a foreign encoder can send this; a rounded amount would be worse than an error.
  if (!Number.isSafeInteger(number)) throw new RangeError(`"${name}" ${value} is outside +-(2^53-1) and cannot be represented exactly in JSON`);
  return number;
}

export function dataFromPaymentCreated(message: PaymentCreated): JsonObject {
  return join('created', message);
}

export function dataFromPaymentUpdated(message: PaymentUpdated): JsonObject {
  return join('updated', message);
}
