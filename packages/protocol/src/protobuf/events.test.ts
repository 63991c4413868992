import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completeEnvelope, envelopeTemplate } from '../envelope.js';
import {
  PaymentCreatedSchema,
  PaymentUpdatedSchema,
  WebSocketMessageSchema,
  type WebSocketMessage,
} from '../gen/websocket/v1/websocket_pb.js';
import { encodeEventMessage, type EventEnvelope } from './events.js';
import { splitPaymentData } from './payment-fields.js';
import { decodeServerMessage, ProtobufDecodeError } from './server-frames.js';
import { timestampFromIso } from './timestamps.js';

/** The example of PROTOCOL.md section 3. */
const paymentCreated: EventEnvelope = {
  type: 'payment.created',
  id: 'evt_7f3a',
  timestamp: '2026-11-21T10:00:00.123Z',
  channel: 'merchant:m_42',
  seq: '1763719200123-0',
  data: { payment_id: 'pay_456', order_id: 'order_789', merchant_id: 'm_42', amount: 10000, currency: 'EUR', status: 'pending' },
};

function roundTrip(event: EventEnvelope): unknown {
  return decodeServerMessage(encodeEventMessage(event));
}

/**
 * The same message built with the generated code and written by the runtime's
 * reflection encoder: the hot-path writer must produce exactly these bytes.
 */
function referenceBytes(event: EventEnvelope): Uint8Array {
  let payload: WebSocketMessage['payload'];
  if (event.type === 'payment.created' || event.type === 'payment.updated') {
    const created = event.type === 'payment.created';
    const { values, extra } = splitPaymentData(created ? 'created' : 'updated', event.data);
    const amount = values.amount === undefined ? undefined : BigInt(values.amount);
    const init = {
      paymentId: values.payment_id as string | undefined,
      orderId: values.order_id as string | undefined,
      merchantId: values.merchant_id as string | undefined,
      currency: values.currency as string | undefined,
      status: values.status as string | undefined,
      amount,
      extra,
    };
    payload = created
      ? { case: 'paymentCreated', value: create(PaymentCreatedSchema, init) }
      : { case: 'paymentUpdated', value: create(PaymentUpdatedSchema, init) };
  } else {
    payload = { case: 'data', value: event.data };
  }
  const { type, id, channel, seq } = event;
  return toBinary(WebSocketMessageSchema, create(WebSocketMessageSchema, { type, id, timestamp: timestampFromIso(event.timestamp), channel, seq, payload }));
}

// Strings as producers may send them: any code point (never an unpaired surrogate, see
// events.ts), with the characters that trip encoders more often.
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u2028', '\uFEFF', '\uFFFD', '\u{1F469}\u200D\u{1F4BB}', 'e\u0301', '"', '\\', '\u{10FFFF}', '\u0085') },
);
const text = fc.string({ unit, maxLength: 12 });
/** What the ingest delivers: JSON.parse output (exact doubles, own `__proto__` keys, no -0). */
const jsonData = fc
  .dictionary(text, fc.jsonValue({ maxDepth: 4, stringUnit: unit }), { maxKeys: 8 })
  .map((value) => JSON.parse(JSON.stringify(value)) as EventEnvelope['data']);

/** Values a typed payment property may hold: fitting ones, and ones that must go to `extra`. */
const stringProperty = fc.oneof(text, fc.constantFrom('', 'pay_456', 0, null, true, [], {}));
const amountProperty = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(0, 1, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1.5, 1e21, '100', null, ''),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => (Object.is(value, -0) ? 0 : value)),
);
const paymentData = fc
  .tuple(
    fc.record(
      {
        payment_id: stringProperty,
        order_id: stringProperty,
        merchant_id: stringProperty,
        amount: amountProperty,
        currency: stringProperty,
        status: stringProperty,
      },
      { requiredKeys: [] },
    ),
    jsonData,
  )
  .map(([typed, extra]) => JSON.parse(JSON.stringify({ ...extra, ...typed })) as EventEnvelope['data']);

const timestamp = fc
  .date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
const CONTROL_TYPES = ['connected', 'subscribed', 'unsubscribed', 'pong', 'error', 'refreshed'];
const otherType = fc.oneof(
  fc.constantFrom('refund.created', 'order.shipped', 'payment.refunded', 'payment.created.v2'),
  text.filter((type) => !CONTROL_TYPES.includes(type) && !type.startsWith('payment.')),
);

function envelope(type: fc.Arbitrary<string>, data: fc.Arbitrary<EventEnvelope['data']>): fc.Arbitrary<EventEnvelope> {
  return fc.record({ type, id: text, timestamp, channel: text, seq: text, data });
}

const anyEvent = fc.oneof(
  envelope(fc.constantFrom('payment.created', 'payment.updated'), paymentData),
  envelope(otherType, jsonData),
);

describe('events over protobuf', () => {
  it('decodes what it encodes, for random valid events', () => {
    fc.assert(
      fc.property(anyEvent, (event) => {
        expect(roundTrip(event)).toEqual(event);
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes the bytes the generated code writes', () => {
    fc.assert(
      fc.property(anyEvent, (event) => {
        expect(encodeEventMessage(event)).toEqual(referenceBytes(event));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips the contract example key for key', () => {
    const decoded = roundTrip(paymentCreated);
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(paymentCreated));
  });

  it('fills typed fields only with values that fit, the rest goes to extra', () => {
    const event: EventEnvelope = {
      ...paymentCreated,
      data: { payment_id: 'pay_1', order_id: '', merchant_id: 7, amount: 0, currency: 'EUR', status: 'pending', note: 'x' },
    };
    const message = decodePlain(encodeEventMessage(event));
    expect(message.payload.case).toBe('paymentCreated');
    const created = message.payload.value as { paymentId: string; orderId: string; amount: bigint; extra?: object };
    expect(created.paymentId).toBe('pay_1');
    expect(created.orderId).toBe('');
    expect(created.amount).toBe(0n);
    expect(created.extra).toEqual({ order_id: '', merchant_id: 7, amount: 0, note: 'x' });
    expect(roundTrip(event)).toEqual(event);
  });

  it('carries a zero amount of payment.updated in its optional field', () => {
    const event: EventEnvelope = { ...paymentCreated, type: 'payment.updated', data: { payment_id: 'pay_1', amount: 0, status: 'refunded' } };
    const message = decodePlain(encodeEventMessage(event));
    expect(message.payload.value).toMatchObject({ amount: 0n });
    expect((message.payload.value as { extra?: object }).extra).toBeUndefined();
    expect(roundTrip(event)).toEqual(event);
  });

  it('keeps -0 and amounts beyond typed ints exact through extra', () => {
    for (const amount of [-0, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
      for (const type of ['payment.created', 'payment.updated']) {
        const decoded = roundTrip({ ...paymentCreated, type, data: { amount } }) as EventEnvelope;
        expect(Object.is(decoded.data.amount, amount)).toBe(true);
      }
    }
  });

  it('keeps a "__proto__" key as data, in typed events and others', () => {
    for (const type of ['payment.created', 'refund.created']) {
      const data = JSON.parse('{"__proto__":{"polluted":true},"payment_id":"pay_1","nested":{"__proto__":[1]}}') as EventEnvelope['data'];
      const decoded = roundTrip({ ...paymentCreated, type, data }) as EventEnvelope;
      expect(Object.getPrototypeOf(decoded.data)).toBe(Object.prototype);
      expect(Object.hasOwn(decoded.data, '__proto__')).toBe(true);
      expect(Object.hasOwn(decoded.data.nested as object, '__proto__')).toBe(true);
      expect(decoded.data).toEqual(data);
    }
  });

  it('carries an empty data object and deep nesting', () => {
    let deep: EventEnvelope['data'] = { leaf: true };
    for (let i = 0; i < 40; i++) deep = { level: i, next: i % 2 === 0 ? deep : [deep] } as EventEnvelope['data'];
    for (const data of [{}, deep]) {
      const event = { ...paymentCreated, type: 'order.shipped', data };
      expect(roundTrip(event)).toEqual(event);
    }
  });

  it('turns an unpaired surrogate into U+FFFD (protobuf strings are UTF-8)', () => {
    const decoded = roundTrip({ ...paymentCreated, type: 'refund.created', data: { note: 'a\ud800b' } }) as EventEnvelope;
    expect(decoded.data).toEqual({ note: 'a\ufffdb' });
  });

  it('refuses data that is not an object and timestamps that do not parse', () => {
    expect(() => encodeEventMessage({ ...paymentCreated, data: [] as unknown as EventEnvelope['data'] })).toThrow(TypeError);
    expect(() => encodeEventMessage({ ...paymentCreated, timestamp: 'yesterday' })).toThrow(RangeError);
    // The writer is clean again afterwards.
    expect(roundTrip(paymentCreated)).toEqual(paymentCreated);
  });

  it('puts a typed field before an extra key of the same name (a foreign encoder)', () => {
    const message = create(WebSocketMessageSchema, {
      type: 'payment.created',
      id: 'e',
      timestamp: timestampFromIso(paymentCreated.timestamp),
      channel: 'c',
      seq: '1-0',
      payload: { case: 'paymentCreated', value: { paymentId: 'typed', extra: { payment_id: 'extra', other: 1 } } },
    });
    expect(decodeServerMessage(toBinary(WebSocketMessageSchema, message))).toMatchObject({ data: { payment_id: 'typed', other: 1 } });
  });

  it('refuses a payment payload under another type and an amount JSON cannot hold', () => {
    const base = { type: 'payment.updated', id: 'e', timestamp: timestampFromIso(paymentCreated.timestamp), channel: 'c', seq: '1-0' };
    const mismatched = create(WebSocketMessageSchema, { ...base, payload: { case: 'paymentCreated', value: { paymentId: 'p' } } });
    expect(() => decodeServerMessage(toBinary(WebSocketMessageSchema, mismatched))).toThrow(ProtobufDecodeError);
    const huge = create(WebSocketMessageSchema, { ...base, payload: { case: 'paymentUpdated', value: { amount: 2n ** 60n } } });
    expect(() => decodeServerMessage(toBinary(WebSocketMessageSchema, huge))).toThrow(/outside/);
  });

  it('is at least 30% smaller than the JSON frame for payment events', () => {
    const json = Buffer.byteLength(completeEnvelope(envelopeTemplate({ ...paymentCreated, data: JSON.stringify(paymentCreated.data) }, paymentCreated.channel), paymentCreated.seq));
    const created = encodeEventMessage(paymentCreated).length;
    const updated = encodeEventMessage({ ...paymentCreated, type: 'payment.updated', data: { payment_id: 'pay_456', merchant_id: 'm_42', status: 'succeeded' } }).length;
    const updatedJson = JSON.stringify({ ...paymentCreated, type: 'payment.updated', data: { payment_id: 'pay_456', merchant_id: 'm_42', status: 'succeeded' } }).length;
    console.log(`payment.created: protobuf ${created} bytes, JSON ${json} bytes (${percentSmaller(created, json)}% smaller); payment.updated: protobuf ${updated}, JSON ${updatedJson} (${percentSmaller(updated, updatedJson)}% smaller)`);
    expect(created).toBeLessThanOrEqual(json * 0.7);
    expect(updated).toBeLessThanOrEqual(updatedJson * 0.7);
  });
});

function percentSmaller(size: number, reference: number): number {
  return Math.round((1 - size / reference) * 100);
}

/** The message as the generated code reads it, to look at which field carries what. */
function decodePlain(bytes: Uint8Array): WebSocketMessage {
  return fromBinary(WebSocketMessageSchema, bytes);
}
