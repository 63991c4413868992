/**
 * The Redis stream ingest (`XADD <prefix>:ingest * event <json>`) across a crash: an
 * ingest process is killed with SIGKILL while it holds pending entries; another one
 * (INGEST_STREAM_CLAIM_IDLE=1s) claims and finishes them. Every valid event reaches the
 * subscriber exactly once (the idempotency records and the broker's per-channel dedupe
 * make the retry safe), and the malformed entry and the invalid events land in
 * `<prefix>:ingest:dead` with the reason.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOrderedOnce, nodeIdOf, startCluster, stopAllProcesses, waitForFrames, waitUntil, type Cluster } from '../support/cluster.js';
import { paymentCreated } from '../support/ingest.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const EVENTS = 4_000;
const GROUP = 'herald-ingest';

let redis: RedisServer;
let admin: Redis;
let cluster: Cluster;
let client: TestClient | undefined;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
  cluster = await startCluster({ redis, label: 'stream', edges: 1 });
});

afterAll(async () => {
  client?.socket.terminate();
  admin?.disconnect();
  await stopAllProcesses();
  await redis?.stop();
});

/** Entries pending for `consumer` in the group (0 when it has none or the group is absent). */
async function pendingOf(stream: string, consumer?: string): Promise<number> {
  const [count, , , consumers] = (await admin.xpending(stream, GROUP)) as [number, string | null, string | null, Array<[string, string]> | null];
  if (consumer === undefined) return Number(count);
  return Number(consumers?.find(([name]) => name === consumer)?.[1] ?? 0);
}

describe('Redis stream ingest', () => {
  it('finishes a killed consumer\'s pending entries exactly once and dead-letters bad entries with the reason', async () => {
    const stream = `${cluster.prefix}:ingest`;
    const dead = `${cluster.prefix}:ingest:dead`;
    const merchant = `m_stream_${process.pid}_${Date.now().toString(36)}`;
    const channel = `merchant:${merchant}`;
    client = await TestClient.open(cluster.edges[0]!.wsUrl, { token: clientToken({ sub: 'stream', channels: [channel] }) });
    await client.subscribe(channel);

    // Ingest A reads big batches; it will be killed half-way.
    const a = await cluster.add('ingest', { INGEST_STREAM_BATCH: '500' });
    const consumerA = nodeIdOf(a);

    // The producers' entries: a third without an id (named after the entry), and bad
    // entries early (A's first batch) and late (after the crash).
    const bodies: string[] = [];
    const ids: Array<string | undefined> = [];
    for (let i = 0; i < EVENTS; i++) {
      const event = paymentCreated(merchant);
      if (i % 3 === 0) delete event.id;
      ids.push(event.id as string | undefined);
      bodies.push(JSON.stringify(event));
    }
    const invalid = { ...paymentCreated(merchant), data: { merchant_id: merchant, payment_id: 'pay_bad', order_id: 'ord_bad', amount: '12.50', currency: 'EUR', status: 'pending' } };
    const pipeline = admin.pipeline();
    pipeline.xadd(stream, '*', 'event', '{"type":"payment.created",');
    for (let i = 0; i < EVENTS; i++) {
      pipeline.xadd(stream, '*', 'event', bodies[i]!);
      if (i === EVENTS - 10) {
        pipeline.xadd(stream, '*', 'event', JSON.stringify(invalid));
        pipeline.xadd(stream, '*', 'payload', bodies[0]!);
      }
    }
    const added = (await pipeline.exec())!.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
    const [malformedId] = added.splice(0, 1);
    const [invalidId, fieldlessId] = added.splice(EVENTS - 9, 2);
    expect(added).toHaveLength(EVENTS);
    const expectedIds = ids.map((id, i) => id ?? `evt_stream_${added[i]}`);

    // Kill A while it holds a batch it read and has not acknowledged, once it is well into
    // the stream. It is frozen first (SIGSTOP) and the pending count read while it cannot
    // acknowledge: seen pending and then killed, it could ack its batch in between. Frozen
    // just after an ack, it runs on (SIGCONT) until it holds the next batch.
    let heldByA = 0;
    await waitUntil(
      async () => {
        if (client!.events(channel).length < 1_000 || (await pendingOf(stream, consumerA)) === 0) return false;
        process.kill(a.pid, 'SIGSTOP');
        // Twice: an ack A wrote just before it stopped may still be on its way to Redis.
        heldByA = Math.min(await pendingOf(stream, consumerA), await pendingOf(stream, consumerA));
        if (heldByA > 0) return true;
        process.kill(a.pid, 'SIGCONT');
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 5, what: 'ingest A half-way with pending entries' },
    );
    await a.stop('SIGKILL');
    expect(await pendingOf(stream, consumerA)).toBe(heldByA);
    expect(heldByA).toBeGreaterThan(0);
    const deliveredBeforeCrash = client.events(channel).length;
    expect(deliveredBeforeCrash).toBeLessThan(EVENTS);

    // Ingest B claims A's entries once idle for a second, and reads the rest.
    const b = await cluster.add('ingest', { INGEST_STREAM_CLAIM_IDLE: '1s' });
    const claimed = await b.waitForLog((record) => record.msg === 'claimed pending stream entries', 20_000);
    expect(claimed.count).toBeGreaterThan(0);

    await waitForFrames(client, () => client!.events(channel).length >= EVENTS, `${EVENTS} events`, 60_000);
    await waitUntil(async () => (await pendingOf(stream)) === 0, { timeoutMs: 15_000, what: 'no entry pending' });
    // Nothing more comes: the barrier orders every frame the edge queued before the pong.
    await client.sync();
    const events = client.events(channel);
    expectOrderedOnce(events);
    expect(events.map((event) => event.id).sort()).toEqual([...expectedIds].sort());
    // Every entry acknowledged, the group's last delivered id at the stream's end.
    const groups = (await admin.xinfo('GROUPS', stream)) as unknown[][];
    const info = Object.fromEntries(groups[0]!.reduce<Array<[string, unknown]>>((pairs, value, i, all) => (i % 2 === 0 ? [...pairs, [String(value), all[i + 1]]] : pairs), []));
    expect(info).toMatchObject({ name: GROUP, pending: 0, 'last-delivered-id': added.at(-1) });

    // Dead letters: each bad entry once, with its problem and reason.
    const letters = (await admin.xrange(dead, '-', '+')).map(([, fields]) => {
      const record: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
      return record;
    });
    const bySource = new Map(letters.map((letter) => [letter.source, letter]));
    expect(letters).toHaveLength(3);
    expect(bySource.get(malformedId!)).toMatchObject({ problem: '/problems/invalid-json', event: '{"type":"payment.created",', reason: expect.stringContaining('not valid JSON') });
    const invalidLetter = bySource.get(invalidId!)!;
    expect(invalidLetter).toMatchObject({ problem: '/problems/validation-failed', event: JSON.stringify(invalid), consumer: expect.any(String) });
    expect(JSON.parse(invalidLetter.errors!)).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'data.amount' })]));
    expect(bySource.get(fieldlessId!)).toMatchObject({ problem: '/problems/validation-failed', reason: 'the entry has no "event" field', event: '' });
  }, 120_000);
});
