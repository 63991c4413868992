/**
 * Size-capped history on Redis, trimmed in chunks: a full stream grows past the
 * window by up to a chunk (10% of historySize, at least 10, at most 100) and is then
 * trimmed back to historySize + 1 entries, so a publish reads nothing from the stream
 * in between. History must still be exactly the newest historySize entries after every
 * publish, at every point of the chunk cycle; the conformance suite checks the contract
 * at a few points, this test checks every one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Broker } from '@herald/broker';
import { eventRequest, publishMany, publishOne } from '../packages/broker/test/conformance.js';
import { createRedisBroker, KeyLayout } from '@herald/broker/redis';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis.js';

// A private server: the command counts below are server-wide.
let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

/** Calls per command since the last CONFIG RESETSTAT (commands run by scripts included). */
async function commandCalls(): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

async function withBroker(historySize: number, test: (broker: Broker, keys: KeyLayout) => Promise<void>): Promise<void> {
  const keyPrefix = uniquePrefix('trim');
  const broker = createRedisBroker({ url: redis.url }, { keyPrefix, retention: { historySize } });
  await broker.start({ onPublication: () => undefined, onDisconnected: () => undefined, onResubscribed: () => undefined });
  try {
    await test(broker, new KeyLayout(keyPrefix));
  } finally {
    await broker.stop();
  }
}

describe('history trimmed in chunks (one Redis)', () => {
  it('is exactly the newest historySize entries after every publish of several chunk cycles', async () => {
    const size = 20;
    const chunk = 10;
    await withBroker(size, async (broker, keys) => {
      const ch = 'trim:every';
      const seqs: string[] = [];
      const lengths = new Set<number>();
      for (let n = 1; n <= size + 4 * chunk + 3; n++) {
        seqs.push(await publishOne(broker, ch));
        const length = await admin.xlen(keys.stream(ch));
        lengths.add(length);
        expect(length).toBeLessThanOrEqual(size + chunk);
        // The window: the last `size` seqs; the floor: the seq just before it.
        const floor = Math.max(0, n - size - 1);
        const fromFloor = await broker.history(ch, seqs[floor]!);
        expect(fromFloor).toMatchObject({ complete: true });
        if (fromFloor.complete) expect(fromFloor.publications.map((p) => p.seq)).toEqual(seqs.slice(floor + 1));
        if (floor > 0) expect(await broker.history(ch, seqs[floor - 1]!)).toEqual({ complete: false, reason: 'trimmed' });
        if (floor > 1) expect(await broker.history(ch, seqs[0]!)).toEqual({ complete: false, reason: 'trimmed' });
      }
      // The stream did overshoot the window (so the count decided), and was trimmed back.
      expect(lengths.has(size + chunk)).toBe(true);
      expect(lengths.has(size + 1)).toBe(true);
    });
  });

  it('keeps the window exact across a batch larger than a chunk', async () => {
    const size = 1000;
    await withBroker(size, async (broker) => {
      const ch = 'trim:batch';
      const seqs: string[] = [];
      for (let round = 0; round < 3; round++) seqs.push(...(await publishMany(broker, ch, 450)));
      const floor = seqs.length - size - 1;
      const complete = await broker.history(ch, seqs[floor]!);
      expect(complete).toMatchObject({ complete: true });
      if (complete.complete) expect(complete.publications).toHaveLength(size);
      expect(await broker.history(ch, seqs[floor - 1]!)).toEqual({ complete: false, reason: 'trimmed' });
    });
  });

  it('trims a full stream once per chunk of publishes, not on every publish', async () => {
    const size = 200;
    const chunk = 20;
    await withBroker(size, async (broker) => {
      const ch = 'trim:cost';
      // Full: one call of size + chunk events.
      const filled = await broker.publishEvents(Array.from({ length: size + chunk }, () => eventRequest([ch])));
      expect(filled.filter((result) => result instanceof Error)).toEqual([]);
      await admin.config('RESETSTAT');
      const publishes = 10 * chunk;
      for (let i = 0; i < publishes; i++) {
        const [result] = await broker.publishEvents([eventRequest([ch])]);
        if (result instanceof Error) throw result;
      }
      const calls = await commandCalls();
      // Every publish appends; one trim, and one single-entry read, per chunk.
      expect(calls.get('xadd')).toBe(publishes);
      expect(calls.get('xtrim') ?? 0).toBeLessThanOrEqual(publishes / chunk + 1);
      expect(calls.get('xrange') ?? 0).toBeLessThanOrEqual(publishes / chunk + 1);
    });
  });
});
