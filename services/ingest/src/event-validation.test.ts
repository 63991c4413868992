/**
 * The envelope rules (EVENT_ENVELOPE_SCHEMA) as producers read them: field, message and
 * the order of checks (unknown fields, type, id, timestamp, data; then the registered
 * type; then `data` against its schema).
 */
import { describe, expect, it } from 'vitest';
import { MessageTypeRegistry } from '@herald/protocol/registry';
import { validateEvent } from './event-validation.js';

const registry = MessageTypeRegistry.withBuiltins();
const data = { payment_id: 'pay_1', order_id: 'ord_1', merchant_id: 'm_1', amount: 100, currency: 'EUR', status: 'pending' };

function refused(raw: unknown, prefix?: string) {
  const result = validateEvent(raw, registry, prefix);
  if (result.ok) throw new Error('accepted');
  return { problem: result.problem.type, detail: result.detail, errors: result.errors };
}

describe('validateEvent', () => {
  it('accepts an event and normalises its timestamp to UTC with milliseconds', () => {
    const result = validateEvent({ type: 'payment.created', id: 'evt:1', timestamp: '2026-11-21T11:00+01:00', data }, registry);
    expect(result).toEqual({ ok: true, event: { type: 'payment.created', id: 'evt:1', timestamp: '2026-11-21T10:00:00.000Z', data } });
    expect(validateEvent({ type: 'payment.created', data }, registry)).toEqual({ ok: true, event: { type: 'payment.created', id: undefined, timestamp: undefined, data } });
  });

  it('names every envelope error, unknown fields first, then type, id, timestamp, data', () => {
    expect(refused({ zz: 1, data: [], timestamp: '2026-02-30T10:00:00Z', id: '', aa: 2 })).toEqual({
      problem: '/problems/validation-failed',
      detail:
        'zz is not allowed; aa is not allowed; type is required; id must be 1 to 128 letters, digits, "_", "-", "." or ":"; ' +
        'timestamp must be an ISO 8601 date-time with a time zone; data must be a JSON object',
      errors: [
        { field: 'zz', message: 'is not allowed' },
        { field: 'aa', message: 'is not allowed' },
        { field: 'type', message: 'is required' },
        { field: 'id', message: 'must be 1 to 128 letters, digits, "_", "-", "." or ":"' },
        { field: 'timestamp', message: 'must be an ISO 8601 date-time with a time zone' },
        { field: 'data', message: 'must be a JSON object' },
      ],
    });
  });

  it('says what type and data must be', () => {
    expect(refused({ type: '', data: null }, 'events[3]').errors).toEqual([
      { field: 'events[3].type', message: 'must be a non-empty string' },
      { field: 'events[3].data', message: 'must be a JSON object' },
    ]);
    expect(refused({ type: 42 }).errors).toEqual([
      { field: 'type', message: 'must be a non-empty string' },
      { field: 'data', message: 'is required' },
    ]);
  });

  it('names the event itself when it is not an object', () => {
    expect(refused([1])).toEqual({ problem: '/problems/validation-failed', detail: '(body) must be a JSON object', errors: [{ field: '(body)', message: 'must be a JSON object' }] });
    expect(refused('x', 'events[1]').errors).toEqual([{ field: 'events[1]', message: 'must be a JSON object' }]);
  });

  it('refuses timestamps without a zone or on a day that does not exist', () => {
    for (const timestamp of ['2026-11-21T10:00:00', '2026-02-29T10:00:00Z', '2026-04-31T10:00:00Z', '2026-11-21T24:60:00Z', 1763719200123]) {
      expect(refused({ type: 'payment.created', timestamp, data }).errors).toEqual([{ field: 'timestamp', message: 'must be an ISO 8601 date-time with a time zone' }]);
    }
    expect(validateEvent({ type: 'payment.created', timestamp: '2028-02-29T10:00:00.123456+0000', data }, registry).ok).toBe(true);
  });

  it('checks the type is registered only once the envelope is valid, then data', () => {
    expect(refused({ type: 'payment.refunded', data: {} }, 'events[0]')).toEqual({
      problem: '/problems/unknown-event-type',
      detail: 'Event type "payment.refunded" is not registered; known types: payment.created, payment.updated',
      errors: [{ field: 'events[0].type', message: 'is not a registered event type' }],
    });
    expect(refused({ type: 'payment.refunded', data: {}, extra: 1 }).problem).toBe('/problems/validation-failed');
    expect(refused({ type: 'payment.created', data: { ...data, amount: 1.5 } }, 'events[2]').errors).toEqual([{ field: 'events[2].data.amount', message: 'must be integer' }]);
  });
});
