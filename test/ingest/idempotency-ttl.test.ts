/**
 * PROTOCOL.md section 7: "the same id within IDEMPOTENCY_TTL is accepted again but not
 * published again". Past the TTL (1 s here, the smallest the config allows) the same
 * id publishes again. The TTL is wall-clock time, so this file waits for it: there is
 * no event to await instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { publish, publishBatch } from '../support/ingest.js';
import type { TestClient } from '../support/ws-client.js';
import { barrier, channelsOf, created, deliveries, eventOn, expectAccepted, freshKeys, subscriber, unique } from './helpers.js';

const TTL_MS = 1_000;
/** Margin past the TTL, counted from when the first 202 was received (after the server stored the id). */
const MARGIN_MS = 100;

let herald: HeraldProcess;
const clients: TestClient[] = [];

beforeAll(async () => {
  herald = await startHerald({ env: { IDEMPOTENCY_TTL: '1s' } });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await herald?.stop();
});

function until(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

describe('section 7: IDEMPOTENCY_TTL', () => {
  it('publishes the same id again once the TTL has passed, and not before', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, channelsOf(keys));
    clients.push(client);
    const event = created(keys);
    expectAccepted(await publish(herald.url, event), false);
    const firstAcceptedAt = Date.now();
    expectAccepted(await publish(herald.url, event), true);

    await until(firstAcceptedAt + TTL_MS + MARGIN_MS);
    const again = expectAccepted(await publish(herald.url, event), false);
    expect(again).toEqual({ id: event.id, channels: channelsOf(keys), duplicate: false });
    // Within the new window it is a duplicate again.
    expectAccepted(await publish(herald.url, event), true);

    await barrier(herald.url, client, keys);
    for (const channel of channelsOf(keys)) {
      const copies = deliveries(client, channel, event.id as string);
      expect(copies).toHaveLength(2);
      expect(copies[0]!.seq).not.toBe(copies[1]!.seq);
    }
  });

  it('applies the TTL to Idempotency-Key headers and to batches alike', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`]);
    clients.push(client);
    const key = unique('idem');
    const batched = created({ ...keys, payment: `${keys.payment}_b` });
    expectAccepted(await publish(herald.url, created(keys), { 'idempotency-key': key }), false);
    const batch1 = await publishBatch(herald.url, [batched]);
    expect(batch1.body.results[0]).toMatchObject({ status: 202, duplicate: false });
    const acceptedAt = Date.now();
    expectAccepted(await publish(herald.url, created(keys), { 'idempotency-key': key }), true);
    expect((await publishBatch(herald.url, [batched])).body.results[0]).toMatchObject({ status: 202, duplicate: true });

    await until(acceptedAt + TTL_MS + MARGIN_MS);
    expectAccepted(await publish(herald.url, created(keys), { 'idempotency-key': key }), false);
    expect((await publishBatch(herald.url, [batched])).body.results[0]).toMatchObject({ status: 202, duplicate: false });
    const channel = `merchant:${keys.merchant}`;
    await eventOn(client, channel, batched.id as string);
    await barrier(herald.url, client, keys, [channel]);
    expect(deliveries(client, channel, key)).toHaveLength(2);
    expect(deliveries(client, channel, batched.id as string)).toHaveLength(2);
  });
});
