/**
 * PROTOCOL.md section 7, validation: `type` must be registered and `data` must match its
 * JSON Schema. Built in: payment.created (payment_id, order_id, merchant_id, integer
 * amount, currency, status) and payment.updated (payment_id, merchant_id, status).
 * 422 /problems/validation-failed names each failing field in `errors`; an unknown type
 * is 422 /problems/unknown-event-type. A refused event is not published.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { post, publish } from '../support/ingest.js';
import { created, errorFields, expectAccepted, expectProblem, freshKeys, updated } from './helpers.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald();
});

afterAll(async () => {
  await herald?.stop();
});

/** Posts `event`, expects 422 validation-failed, returns the failing field names. */
async function refusedFields(event: unknown): Promise<string[]> {
  const answer = await post(`${herald.url}/v1/events`, event);
  expectProblem(answer, 422, '/problems/validation-failed');
  return errorFields(answer.body);
}

function without(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

describe('section 7: payment.created', () => {
  const required = ['payment_id', 'order_id', 'merchant_id', 'amount', 'currency', 'status'];

  it('accepts an event with every required field', async () => {
    expectAccepted(await publish(herald.url, created(freshKeys())));
  });

  it.each(required)('names data.%s when it is missing', async (field) => {
    const event = created(freshKeys());
    const fields = await refusedFields({ ...event, data: without(event.data as Record<string, unknown>, field) });
    expect(fields).toEqual([`data.${field}`]);
  });

  it('names every missing field of an empty data object', async () => {
    const fields = await refusedFields({ type: 'payment.created', data: {} });
    expect([...fields].sort()).toEqual(required.map((field) => `data.${field}`).sort());
  });

  it.each([
    ['a fraction', 10.5],
    ['a string', '10000'],
    ['null', null],
    ['a boolean', true],
  ])('requires an integer amount in minor units (refuses %s)', async (_name, amount) => {
    const fields = await refusedFields(created(freshKeys(), {}, { amount }));
    expect(fields).toEqual(['data.amount']);
  });

  it('accepts a zero amount and an amount written as 10000.0', async () => {
    expectAccepted(await publish(herald.url, created(freshKeys(), {}, { amount: 0 })));
    expectAccepted(await post(`${herald.url}/v1/events`, JSON.stringify(created(freshKeys())).replace('"amount":10000', '"amount":10000.0')));
  });

  it('refuses a currency that is not a currency code', async () => {
    for (const currency of ['euro', 'eur', 'EU', 42, '']) {
      expect(await refusedFields(created(freshKeys(), {}, { currency }))).toEqual(['data.currency']);
    }
  });

  it('refuses identifiers that are not strings', async () => {
    const fields = await refusedFields(created(freshKeys(), {}, { merchant_id: 42, payment_id: null, order_id: { id: 1 } }));
    expect([...fields].sort()).toEqual(['data.merchant_id', 'data.order_id', 'data.payment_id']);
  });

  it('names each failing field when several fail at once', async () => {
    const event = created(freshKeys(), {}, { amount: 12.34, currency: 'euros' });
    const data = without(event.data as Record<string, unknown>, 'merchant_id');
    const fields = await refusedFields({ ...event, data });
    expect([...fields].sort()).toEqual(['data.amount', 'data.currency', 'data.merchant_id']);
  });

  it('accepts extra data fields the schema does not forbid', async () => {
    expectAccepted(await publish(herald.url, created(freshKeys(), {}, { note: 'gift', metadata: { a: 1 } })));
  });
});

describe('section 7: payment.updated', () => {
  it('requires only payment_id, merchant_id and status', async () => {
    const keys = freshKeys();
    expectAccepted(await publish(herald.url, { type: 'payment.updated', data: { payment_id: keys.payment, merchant_id: keys.merchant, status: 'captured' } }));
  });

  it.each(['payment_id', 'merchant_id', 'status'])('names data.%s when it is missing', async (field) => {
    const event = updated(freshKeys());
    expect(await refusedFields({ ...event, data: without(event.data as Record<string, unknown>, field) })).toEqual([`data.${field}`]);
  });

  it('still checks optional fields that are present', async () => {
    expect(await refusedFields(updated(freshKeys(), {}, { amount: 1.5 }))).toEqual(['data.amount']);
  });
});

describe('section 7: the event envelope', () => {
  it('names `type` when it is missing or not a string', async () => {
    const event = created(freshKeys());
    expect(await refusedFields(without(event, 'type'))).toEqual(['type']);
    expect(await refusedFields({ ...event, type: 42 })).toEqual(['type']);
    expect(await refusedFields({ ...event, type: '' })).toEqual(['type']);
  });

  it('names `data` when it is missing or not an object', async () => {
    const event = created(freshKeys());
    expect(await refusedFields(without(event, 'data'))).toEqual(['data']);
    for (const data of ['payment', 42, null, [], [{ payment_id: 'p' }], true]) {
      expect(await refusedFields({ ...event, data })).toEqual(['data']);
    }
  });

  it('names both `type` and `data` when both are wrong', async () => {
    expect([...(await refusedFields({ data: 'x' }))].sort()).toEqual(['data', 'type']);
  });

  it('refuses a body that is not a JSON object', async () => {
    for (const body of [[], [created(freshKeys())], 42, 'payment.created', null]) {
      const answer = await post(`${herald.url}/v1/events`, JSON.stringify(body));
      expectProblem(answer, 422, '/problems/validation-failed');
      expect(errorFields(answer.body).length).toBeGreaterThan(0);
    }
  });

  it('refuses an id that is not a non-empty string', async () => {
    for (const id of [42, '', null, { a: 1 }]) {
      expect(await refusedFields(created(freshKeys(), { id }))).toEqual(['id']);
    }
  });

  it('refuses a timestamp that is not an ISO 8601 date-time', async () => {
    for (const timestamp of ['yesterday', 1763719200123, '2026-11-21', '2026-13-01T10:00:00Z', '2026-02-30T10:00:00Z', '2026-11-21T25:00:00Z']) {
      expect(await refusedFields(created(freshKeys(), { timestamp }))).toEqual(['timestamp']);
    }
  });

  it('answers /problems/unknown-event-type for a type that is not registered', async () => {
    const keys = freshKeys();
    for (const type of ['payment.refunded', 'payment', 'Payment.Created', 'order.created']) {
      const answer = await post(`${herald.url}/v1/events`, { ...created(keys), type });
      expectProblem(answer, 422, '/problems/unknown-event-type');
    }
  });

  it('publishes nothing for a refused event: its id stays new', async () => {
    const keys = freshKeys();
    const event = created(keys);
    await refusedFields({ ...event, data: { ...(event.data as object), amount: 'ten' } });
    const unknown = await post(`${herald.url}/v1/events`, { ...event, type: 'payment.refunded' });
    expectProblem(unknown, 422, '/problems/unknown-event-type');
    const answer = expectAccepted(await publish(herald.url, event));
    expect(answer.id).toBe(event.id);
  });
});
