/**
 * PROTOCOL.md section 7, idempotency: `id` is the idempotency key; the same id within
 * IDEMPOTENCY_TTL is accepted again (202, duplicate:true, same channels) but not
 * published again; the Idempotency-Key header overrides `id`. The TTL itself is in
 * idempotency-ttl.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import type { TestClient } from '../support/ws-client.js';
import { barrier, channelsOf, created, deliveries, eventOn, expectAccepted, freshKeys, subscriber, unique, updated } from './helpers.js';

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

describe('section 7: the same id twice', () => {
  it('accepts the repeat with duplicate:true and the same channels, and publishes once', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const event = created(keys);
    const first = expectAccepted(await publish(herald.url, event), false);
    const second = expectAccepted(await publish(herald.url, event), true);
    expect(second).toEqual({ id: event.id, channels: first.channels, duplicate: true });
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) expect(deliveries(client, channel, event.id as string)).toHaveLength(1);
  });

  it('does not publish a different event that reuses the id', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const event = created(keys);
    const first = expectAccepted(await publish(herald.url, event));
    const reuse = created(keys, { id: event.id }, { amount: 1, status: 'failed' });
    const second = expectAccepted(await publish(herald.url, reuse), true);
    expect(second.channels).toEqual(first.channels);
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) {
      const copies = deliveries(client, channel, event.id as string);
      expect(copies).toHaveLength(1);
      expect(copies[0]!.data).toEqual(event.data);
    }
  });

  it('keeps answering duplicate:true for every further repeat', async () => {
    const keys = freshKeys();
    const event = updated(keys);
    expectAccepted(await publish(herald.url, event), false);
    for (let i = 0; i < 3; i++) expectAccepted(await publish(herald.url, event), true);
  });

  it('treats ids as exact strings', async () => {
    const keys = freshKeys();
    const id = unique('Evt');
    expectAccepted(await publish(herald.url, created(keys, { id })), false);
    expectAccepted(await publish(herald.url, created(keys, { id: id.toLowerCase() })), false);
    expectAccepted(await publish(herald.url, created(keys, { id: `${id}.` })), false);
  });

  it('publishes exactly once when 20 identical requests race', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const event = created(keys);
    const answers = await Promise.all(Array.from({ length: 20 }, () => publish(herald.url, event)));
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.body.id).toBe(event.id);
      expect(answer.body.channels).toEqual(channelsOf(keys));
    }
    expect(answers.filter((answer) => answer.body.duplicate === false)).toHaveLength(1);
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) expect(deliveries(client, channel, event.id as string)).toHaveLength(1);
  });
});

describe('section 7: the Idempotency-Key header overrides id', () => {
  it('answers and delivers with the header value as the id', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const key = unique('idem');
    const event = created(keys);
    const body = expectAccepted(await publish(herald.url, event, { 'idempotency-key': key }));
    expect(body).toEqual({ id: key, channels: channelsOf(keys), duplicate: false });
    for (const channel of channelsOf(keys)) {
      const frame = await eventOn(client, channel, key);
      expect(frame.id).toBe(key);
      expect(frame.data).toEqual(event.data);
    }
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) {
      expect(deliveries(client, channel, key)).toHaveLength(1);
      expect(deliveries(client, channel, event.id as string)).toHaveLength(0);
    }
  });

  it('makes events with different ids but the same header duplicates', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const key = unique('idem');
    const first = created(keys);
    const second = created(keys);
    expectAccepted(await publish(herald.url, first, { 'idempotency-key': key }), false);
    const repeat = expectAccepted(await publish(herald.url, second, { 'idempotency-key': key }), true);
    expect(repeat.id).toBe(key);
    expect(repeat.channels).toEqual(channelsOf(keys));
    // The header value is the key: the same value as a body id is a duplicate too...
    expectAccepted(await publish(herald.url, created(keys, { id: key })), true);
    // ...while the body ids that the header replaced were never used.
    expectAccepted(await publish(herald.url, first), false);
    await barrier(herald.url, client, keys);
    const channel = `merchant:${keys.merchant}`;
    expect(deliveries(client, channel, key)).toHaveLength(1);
    expect(deliveries(client, channel, first.id as string)).toHaveLength(1);
    expect(deliveries(client, channel, second.id as string)).toHaveLength(0);
  });

  it('applies the header to an event without an id', async () => {
    const keys = freshKeys();
    const key = unique('idem');
    const { id: _dropped, ...event } = created(keys);
    expect(expectAccepted(await publish(herald.url, event, { 'idempotency-key': key })).id).toBe(key);
    expect(expectAccepted(await publish(herald.url, event, { 'idempotency-key': key }), true).id).toBe(key);
  });

  it('publishes exactly once when 20 requests with the same header race', async () => {
    const keys = freshKeys();
    const client = await subscribed(channelsOf(keys));
    const key = unique('idem');
    const answers = await Promise.all(Array.from({ length: 20 }, () => publish(herald.url, created(keys), { 'idempotency-key': key })));
    for (const answer of answers) expect(answer.body).toMatchObject({ id: key, channels: channelsOf(keys) });
    expect(answers.filter((answer) => answer.body.duplicate === false)).toHaveLength(1);
    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) expect(deliveries(client, channel, key)).toHaveLength(1);
  });
});
