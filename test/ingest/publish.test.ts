/**
 * PROTOCOL.md section 7, accepted events: the 202 body, the default payment routes, the
 * envelope each subscriber receives (exactly once per channel), server-made ids and
 * timestamps, and "202 only once every target channel's history has the event".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import type { TestClient } from '../support/ws-client.js';
import {
  ENVELOPE_KEYS,
  ISO_MS_UTC,
  barrier,
  channelsOf,
  created,
  deliveries,
  eventOn,
  expectAccepted,
  freshKeys,
  subscriber,
  updated,
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

async function subscribed(channels: string[], since: Record<string, string> = {}): Promise<TestClient> {
  const client = await subscriber(herald.wsUrl, channels, since);
  clients.push(client);
  return client;
}

function without(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

describe('section 7: the 202 answer and the default routes', () => {
  it('answers 202 with exactly {id, channels, duplicate:false}', async () => {
    const keys = freshKeys();
    const event = created(keys);
    const answer = await publish(herald.url, event);
    const body = expectAccepted(answer);
    expect(body).toEqual({ id: event.id, channels: channelsOf(keys), duplicate: false });
  });

  it('routes payment.created to merchant, payment and order channels', async () => {
    const keys = freshKeys();
    const body = expectAccepted(await publish(herald.url, created(keys)));
    expect(body.channels).toEqual([`merchant:${keys.merchant}`, `payment:${keys.payment}`, `order:${keys.order}`]);
  });

  it('routes payment.updated without order_id to merchant and payment only', async () => {
    const keys = freshKeys();
    const body = expectAccepted(await publish(herald.url, updated(keys)));
    expect(body.channels).toEqual([`merchant:${keys.merchant}`, `payment:${keys.payment}`]);
  });

  it('routes payment.updated with order_id to the order channel too', async () => {
    const keys = freshKeys();
    const body = expectAccepted(await publish(herald.url, updated(keys, {}, { order_id: keys.order })));
    expect(body.channels).toEqual(channelsOf(keys));
  });
});

describe('section 7: delivery to subscribers', () => {
  it('delivers the envelope {type,id,timestamp,channel,seq,data} once on each target channel', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const event = created(keys, { timestamp: '2026-11-21T10:00:00Z' });
    expectAccepted(await publish(herald.url, event));
    for (const channel of channelsOf(keys)) {
      const frame = await eventOn(client, channel, event.id as string);
      expect(Object.keys(frame)).toEqual(ENVELOPE_KEYS);
      expect(frame).toEqual({
        type: 'payment.created',
        id: event.id,
        timestamp: '2026-11-21T10:00:00.000Z',
        channel,
        seq: expect.any(String),
        data: event.data,
      });
      expect(frame.seq.length).toBeGreaterThan(0);
    }
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) expect(deliveries(client, channel, event.id as string)).toHaveLength(1);
  });

  it('delivers payment.updated without order_id to its two channels and not to an order channel', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const event = updated(keys);
    expectAccepted(await publish(herald.url, event));
    await eventOn(client, `merchant:${keys.merchant}`, event.id as string);
    await eventOn(client, `payment:${keys.payment}`, event.id as string);
    await barrier(herald.url, client, keys);
    expect(deliveries(client, `merchant:${keys.merchant}`, event.id as string)).toHaveLength(1);
    expect(deliveries(client, `payment:${keys.payment}`, event.id as string)).toHaveLength(1);
    expect(deliveries(client, `order:${keys.order}`, event.id as string)).toHaveLength(0);
  });

  it('delivers to every subscriber of a channel, with the same seq', async () => {
    const keys = freshKeys();
    const channel = `merchant:${keys.merchant}`;
    const [a, b] = await Promise.all([subscribed([channel]), subscribed([channel])]);
    const event = created(keys);
    expectAccepted(await publish(herald.url, event));
    const [fa, fb] = await Promise.all([eventOn(a!, channel, event.id as string), eventOn(b!, channel, event.id as string)]);
    expect(fa).toEqual(fb);
  });

  it('delivers events published one after another in order, with increasing seq', async () => {
    const keys = freshKeys();
    const channel = `merchant:${keys.merchant}`;
    const client = await subscribed([channel]);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const event = created({ ...keys, payment: `${keys.payment}_${i}`, order: `${keys.order}_${i}` });
      ids.push(event.id as string);
      expectAccepted(await publish(herald.url, event));
    }
    await eventOn(client, channel, ids.at(-1)!);
    const frames = client.events(channel);
    expect(frames.map((frame) => frame.id)).toEqual(ids);
    const seqs = frames.map((frame) => frame.seq as string);
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe('section 7: id and timestamp are optional', () => {
  it('makes an id when the event has none, and delivers the event with that id', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const event = without(created(keys), 'id');
    const body = expectAccepted(await publish(herald.url, event));
    expect(body.id.length).toBeGreaterThan(0);
    expect(body.channels).toEqual(channelsOf(keys));
    for (const channel of channelsOf(keys)) {
      const frame = await eventOn(client, channel, body.id);
      expect(frame.data).toEqual(event.data);
    }
  });

  it('makes a different id for each event without one: both are published', async () => {
    const keys = freshKeys();
    const event = without(created(keys), 'id');
    const first = expectAccepted(await publish(herald.url, event));
    const second = expectAccepted(await publish(herald.url, event));
    expect(second.id).not.toBe(first.id);
  });

  it('timestamps an event without one with the time of receipt (ISO 8601 UTC, ms)', async () => {
    const keys = freshKeys();
    const client = await subscribed([`merchant:${keys.merchant}`]);
    const event = without(created(keys), 'timestamp');
    const before = Date.now();
    const body = expectAccepted(await publish(herald.url, event));
    const after = Date.now();
    const frame = await eventOn(client, `merchant:${keys.merchant}`, body.id);
    expect(frame.timestamp).toMatch(ISO_MS_UTC);
    const at = Date.parse(frame.timestamp);
    // Same host, same clock; a few ms of slack for rounding to milliseconds.
    expect(at).toBeGreaterThanOrEqual(before - 5);
    expect(at).toBeLessThanOrEqual(after + 5);
  });

  it.each([
    ['2026-11-21T10:00:00Z', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T10:00:00.123Z', '2026-11-21T10:00:00.123Z'],
    ['2026-11-21T12:00:00.5+02:00', '2026-11-21T10:00:00.500Z'],
    ['2026-11-21T05:30:00-04:30', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T10:00:00.123456789Z', '2026-11-21T10:00:00.123Z'],
  ])('delivers the given timestamp %s normalised to %s', async (given, expected) => {
    const keys = freshKeys();
    const client = await subscribed([`payment:${keys.payment}`]);
    const event = created(keys, { timestamp: given });
    expectAccepted(await publish(herald.url, event));
    const frame = await eventOn(client, `payment:${keys.payment}`, event.id as string);
    expect(frame.timestamp).toBe(expected);
  });
});

describe('section 7: 202 only once every target channel has the event in history', () => {
  it('a subscriber resuming with `since` after the 202 recovers the event on every channel', async () => {
    const keys = freshKeys();
    const channels = channelsOf(keys);
    // A first event gives each channel a position to resume from.
    const live = await subscribed(channels);
    const first = created(keys);
    expectAccepted(await publish(herald.url, first));
    const since: Record<string, string> = {};
    for (const channel of channels) since[channel] = (await eventOn(live, channel, first.id as string)).seq;
    await live.close();

    // Nobody is subscribed now: only history can hand the next event over.
    const second = updated(keys, {}, { order_id: keys.order });
    expectAccepted(await publish(herald.url, second));

    const resumed = await subscriber(herald.wsUrl, [], {});
    clients.push(resumed);
    for (const channel of channels) {
      const reply = await resumed.subscribe(channel, since[channel]);
      expect(reply).toMatchObject({ type: 'subscribed', data: { channel, recovered: true, missed: 1 } });
      const frame = await eventOn(resumed, channel, second.id as string);
      expect(frame.seq).not.toBe(since[channel]);
      expect(frame.data).toEqual(second.data);
    }
    expect(resumed.events().some((frame) => frame.id === first.id)).toBe(false);
  });

  it('every event of a burst answered 202 is in history', async () => {
    const keys = freshKeys();
    const channel = `merchant:${keys.merchant}`;
    const live = await subscribed([channel]);
    const opener = created(keys);
    expectAccepted(await publish(herald.url, opener));
    const since = (await eventOn(live, channel, opener.id as string)).seq;
    await live.close();

    const burst = Array.from({ length: 25 }, (_, i) => created({ ...keys, payment: `${keys.payment}_${i}`, order: `${keys.order}_${i}` }));
    const answers = await Promise.all(burst.map((event) => publish(herald.url, event)));
    for (const answer of answers) expectAccepted(answer);

    const resumed = await subscribed([]);
    const reply = await resumed.subscribe(channel, since);
    expect(reply).toMatchObject({ type: 'subscribed', data: { channel, recovered: true, missed: burst.length } });
    await Promise.all(burst.map((event) => eventOn(resumed, channel, event.id as string)));
    expect(resumed.events(channel)).toHaveLength(burst.length);
  });
});
