/**
 * PROTOCOL.md section 7, `POST /v1/events:batch`: takes {"events":[...]} (at most 500)
 * and answers 207 with one result per event, in order; one bad event does not reject
 * the others. Each result is {status:202,id,channels,duplicate} or a problem whose
 * field paths name the event's index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { post, publish, publishBatch } from '../support/ingest.js';
import type { TestClient } from '../support/ws-client.js';
import {
  MAX_BODY,
  barrier,
  channelsOf,
  created,
  deliveries,
  errorFields,
  eventOn,
  expectAccepted,
  expectProblem,
  freshKeys,
  subscriber,
  updated,
  type PaymentKeys,
} from './helpers.js';

let herald: HeraldProcess;
const clients: TestClient[] = [];

beforeAll(async () => {
  herald = await startHerald();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await herald?.stop();
});

async function subscribed(channels: string[]): Promise<TestClient> {
  const client = await subscriber(herald.wsUrl, channels);
  clients.push(client);
  return client;
}

/** Events of one merchant, each with its own payment and order. */
function merchantEvents(keys: PaymentKeys, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => created({ merchant: keys.merchant, payment: `${keys.payment}_${i}`, order: `${keys.order}_${i}` }));
}

function expectMultiStatus(answer: { status: number; contentType: string | null; body: any }, count: number): any[] {
  expect(answer.status, JSON.stringify(answer.body).slice(0, 500)).toBe(207);
  expect(answer.contentType?.split(';')[0]).toBe('application/json');
  expect(Array.isArray(answer.body.results)).toBe(true);
  expect(answer.body.results).toHaveLength(count);
  return answer.body.results;
}

function expectResultProblem(result: any, status: number, type: string): string[] {
  expect(result).toMatchObject({ status, type, title: expect.any(String) });
  return errorFields(result);
}

describe('section 7: batch results', () => {
  it('answers 207 with one result per event, in order, each {status:202,id,channels,duplicate}', async () => {
    const keys = freshKeys();
    const events = [created(keys), updated({ ...keys, payment: `${keys.payment}_u` }), updated({ ...keys, payment: `${keys.payment}_o` }, {}, { order_id: keys.order })];
    const results = expectMultiStatus(await publishBatch(herald.url, events), 3);
    expect(results[0]).toEqual({ status: 202, id: events[0]!.id, channels: channelsOf(keys), duplicate: false });
    expect(results[1]).toEqual({ status: 202, id: events[1]!.id, channels: [`merchant:${keys.merchant}`, `payment:${keys.payment}_u`], duplicate: false });
    expect(results[2]).toEqual({ status: 202, id: events[2]!.id, channels: [`merchant:${keys.merchant}`, `payment:${keys.payment}_o`, `order:${keys.order}`], duplicate: false });
  });

  it('reports each bad event with field paths naming its index, and publishes the good ones', async () => {
    const keys = freshKeys();
    const client = await subscribed([`merchant:${keys.merchant}`]);
    const [good0, amount1, good2, _notObject3, unknown4, missing5, good6] = merchantEvents(keys, 7);
    const events: unknown[] = [
      good0,
      { ...amount1, data: { ...(amount1!.data as object), amount: 99.5 } },
      good2,
      'not an event',
      { ...unknown4, type: 'payment.refunded' },
      { ...missing5, data: { ...(missing5!.data as object), merchant_id: undefined, currency: 'euro' } },
      good6,
    ];
    const results = expectMultiStatus(await publishBatch(herald.url, events), 7);

    for (const [index, event] of [[0, good0], [2, good2], [6, good6]] as const) {
      expect(results[index]).toMatchObject({ status: 202, id: event!.id, duplicate: false });
    }
    expect(expectResultProblem(results[1], 422, '/problems/validation-failed')).toEqual(['events[1].data.amount']);
    expect(expectResultProblem(results[3], 422, '/problems/validation-failed')).toEqual(['events[3]']);
    expectResultProblem(results[4], 422, '/problems/unknown-event-type');
    expect([...expectResultProblem(results[5], 422, '/problems/validation-failed')].sort()).toEqual(['events[5].data.currency', 'events[5].data.merchant_id']);

    const channel = `merchant:${keys.merchant}`;
    await eventOn(client, channel, good6!.id as string);
    await barrier(herald.url, client, keys, [channel]);
    const delivered = client.events(channel).map((frame) => frame.id);
    expect(delivered.slice(0, 3)).toEqual([good0!.id, good2!.id, good6!.id]);
    for (const bad of [amount1, unknown4, missing5]) expect(delivered).not.toContain(bad!.id);
  });

  it('names missing type and data by index', async () => {
    const keys = freshKeys();
    const [a, b] = merchantEvents(keys, 2);
    const { type: _type, ...noType } = a!;
    const { data: _data, ...noData } = b!;
    const results = expectMultiStatus(await publishBatch(herald.url, [noType, noData, created(keys)]), 3);
    expect(expectResultProblem(results[0], 422, '/problems/validation-failed')).toEqual(['events[0].type']);
    expect(expectResultProblem(results[1], 422, '/problems/validation-failed')).toEqual(['events[1].data']);
    expect(results[2]).toMatchObject({ status: 202 });
  });

  it('answers 207 even when every event is bad', async () => {
    const results = expectMultiStatus(await publishBatch(herald.url, [1, null, { type: 'payment.created', data: {} }]), 3);
    for (const result of results) expect(result.status).toBe(422);
  });

  it('makes an id for events without one', async () => {
    const keys = freshKeys();
    const events = merchantEvents(keys, 3).map(({ id: _id, ...event }) => event);
    const results = expectMultiStatus(await publishBatch(herald.url, events), 3);
    const ids = results.map((result) => result.id as string);
    for (const id of ids) expect(id.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(3);
  });

  it('accepts exactly 500 events', async () => {
    const keys = freshKeys();
    const events = merchantEvents(keys, 500);
    const results = expectMultiStatus(await publishBatch(herald.url, events), 500);
    results.forEach((result, i) => expect(result).toMatchObject({ status: 202, id: events[i]!.id, duplicate: false }));
  });
});

describe('section 7: batch limits and shape', () => {
  it('refuses more than 500 events with 422 validation-failed naming `events`, publishing none', async () => {
    const keys = freshKeys();
    const events = merchantEvents(keys, 501);
    const body = JSON.stringify({ events });
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_BODY);
    const answer = await post(`${herald.url}/v1/events:batch`, body);
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(errorFields(answer.body)).toEqual(['events']);
    expectAccepted(await publish(herald.url, events[0]), false);
  });

  it('refuses a batch over 256 KiB with 413', async () => {
    const keys = freshKeys();
    const events = merchantEvents(keys, 400).map((event) => ({ ...event, data: { ...(event.data as object), note: 'x'.repeat(700) } }));
    expect(Buffer.byteLength(JSON.stringify({ events }))).toBeGreaterThan(MAX_BODY);
    expectProblem(await publishBatch(herald.url, events), 413, '/problems/payload-too-large');
    expectAccepted(await publish(herald.url, events[0]), false);
  });

  it('refuses an empty batch with 422 naming `events`', async () => {
    const answer = await publishBatch(herald.url, []);
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(errorFields(answer.body)).toEqual(['events']);
  });

  it('refuses a body that is not {"events": [...]} with 422 naming `events`', async () => {
    const event = created(freshKeys());
    for (const body of [[event], { events: event }, { events: 'x' }, {}, { event: [event] }, 'events', null, 42]) {
      const answer = await post(`${herald.url}/v1/events:batch`, JSON.stringify(body));
      expectProblem(answer, 422, '/problems/validation-failed');
      expect(errorFields(answer.body)).toContain('events');
    }
    expectAccepted(await publish(herald.url, event), false);
  });
});

describe('section 7: batch idempotency and order', () => {
  it('publishes an id repeated inside one batch once', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const event = created(keys);
    const other = created({ ...keys, payment: `${keys.payment}_2`, order: `${keys.order}_2` });
    const results = expectMultiStatus(await publishBatch(herald.url, [event, other, event, { ...event, data: { ...(event.data as object), status: 'changed' } }]), 4);
    expect(results[0]).toEqual({ status: 202, id: event.id, channels: channelsOf(keys), duplicate: false });
    expect(results[1]).toMatchObject({ status: 202, id: other.id, duplicate: false });
    expect(results[2]).toEqual({ status: 202, id: event.id, channels: channelsOf(keys), duplicate: true });
    expect(results[3]).toEqual({ status: 202, id: event.id, channels: channelsOf(keys), duplicate: true });
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) {
      const copies = deliveries(client, channel, event.id as string);
      expect(copies).toHaveLength(1);
      expect(copies[0]!.data).toEqual(event.data);
    }
  });

  it('reports an id published earlier as a duplicate, and publishes the rest', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const earlier = created(keys);
    expectAccepted(await publish(herald.url, earlier));
    const fresh = updated(keys, {}, { order_id: keys.order });
    const results = expectMultiStatus(await publishBatch(herald.url, [earlier, fresh]), 2);
    expect(results[0]).toEqual({ status: 202, id: earlier.id, channels: channelsOf(keys), duplicate: true });
    expect(results[1]).toEqual({ status: 202, id: fresh.id, channels: channelsOf(keys), duplicate: false });
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) {
      expect(deliveries(client, channel, earlier.id as string)).toHaveLength(1);
      expect(deliveries(client, channel, fresh.id as string)).toHaveLength(1);
    }
  });

  it('makes a batch event a duplicate of later single publishes', async () => {
    const keys = freshKeys();
    const event = created(keys);
    expectMultiStatus(await publishBatch(herald.url, [event]), 1);
    expectAccepted(await publish(herald.url, event), true);
  });

  it('delivers the events of a batch on one channel in batch order', async () => {
    const keys = freshKeys();
    const channel = `merchant:${keys.merchant}`;
    const client = await subscribed([channel]);
    const events = merchantEvents(keys, 50);
    // Interleave payment.updated events so that order is not an artefact of one type.
    const mixed = events.flatMap((event, i) =>
      i % 5 === 0 ? [event, updated({ ...keys, payment: `${keys.payment}_${i}` })] : [event],
    );
    const results = expectMultiStatus(await publishBatch(herald.url, mixed), mixed.length);
    for (const result of results) expect(result.status).toBe(202);
    await eventOn(client, channel, mixed.at(-1)!.id as string);
    const frames = client.events(channel);
    expect(frames.map((frame) => frame.id)).toEqual(mixed.map((event) => event.id));
    expect(new Set(frames.map((frame) => frame.seq)).size).toBe(mixed.length);
  });

  it('puts every accepted batch event in history before answering', async () => {
    const keys = freshKeys();
    const channel = `merchant:${keys.merchant}`;
    const live = await subscribed([channel]);
    const opener = created(keys);
    expectAccepted(await publish(herald.url, opener));
    const since = (await eventOn(live, channel, opener.id as string)).seq;
    await live.close();

    const events = merchantEvents(keys, 30);
    expectMultiStatus(await publishBatch(herald.url, events), 30);
    const resumed = await subscribed([]);
    const reply = await resumed.subscribe(channel, since);
    expect(reply).toMatchObject({ type: 'subscribed', data: { recovered: true, missed: 30 } });
    await eventOn(resumed, channel, events.at(-1)!.id as string);
    expect(resumed.events(channel).map((frame) => frame.id)).toEqual(events.map((event) => event.id));
  });
});
