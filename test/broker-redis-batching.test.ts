/**
 * publishEvents on one Redis from concurrent callers (an ingest answering one event per
 * request): calls made in one event-loop turn reach Redis together, each keeps its own
 * reply and error, and a node that lost its scripts still runs every one of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { makeEvent, request } from '../packages/broker/test/conformance.js';
import { createRedisBroker, KeyLayout, type RedisBroker } from '@herald/broker/redis';
import type { BrokerListener, EventPublishRequest } from '@herald/broker';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis.js';

const silent: BrokerListener = { onPublication: () => undefined, onDisconnected: () => undefined, onResubscribed: () => undefined };

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

async function stat(name: string): Promise<number> {
  const info = await admin.info('stats');
  const match = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  if (!match) throw new Error(`INFO stats has no ${name}`);
  return Number(match[1]);
}

function singleEvents(count: number, channel: (i: number) => string): EventPublishRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const event = makeEvent();
    return { id: event.id!, requests: [request(channel(i), event)] };
  });
}

describe('publishEvents from concurrent callers on one Redis', () => {
  let broker: RedisBroker;
  let keys: KeyLayout;

  beforeAll(async () => {
    const keyPrefix = uniquePrefix('batching');
    keys = new KeyLayout(keyPrefix);
    broker = createRedisBroker({ url: redis.url }, { keyPrefix });
    await broker.start(silent);
    // Load the script once so that the measured calls are EVALSHAs.
    await broker.publishEvents(singleEvents(1, () => 'warm:up'));
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('sends the calls of one turn together: far fewer reads in Redis than calls, every event stored once', async () => {
    const events = singleEvents(40, (i) => `merchant:m_batch${i % 4}`);
    const readsBefore = await stat('total_reads_processed');
    const results = await Promise.all(events.map((event) => broker.publishEvents([event]).then(([result]) => result!)));
    const reads = (await stat('total_reads_processed')) - readsBefore;
    expect(results.every((result) => !(result instanceof Error) && result.duplicate === false)).toBe(true);
    // 40 calls and the two INFO commands around them; one pipeline is a handful of reads.
    expect(reads).toBeLessThan(10);
    for (let m = 0; m < 4; m++) expect(await admin.xlen(keys.stream(`merchant:m_batch${m}`))).toBe(10);
  });

  it('a failing call fails only its own caller', async () => {
    const events = singleEvents(5, (i) => `merchant:m_iso${i}`);
    // The third event's channel stream is a string: its XADD fails inside the script.
    await admin.set(keys.stream('merchant:m_iso2'), 'not a stream');
    await admin.hset(keys.meta('merchant:m_iso2'), 'top', '1-0');
    const results = await Promise.all(events.map((event) => broker.publishEvents([event]).then(([result]) => result!)));
    expect(results.map((result) => result instanceof Error)).toEqual([false, false, true, false, false]);
  });

  it('runs every call after SCRIPT FLUSH (NOSCRIPT: each sent again with the script body)', async () => {
    await admin.script('FLUSH');
    const events = singleEvents(12, (i) => `merchant:m_flush${i % 3}`);
    const results = await Promise.all(events.map((event) => broker.publishEvents([event]).then(([result]) => result!)));
    expect(results.every((result) => !(result instanceof Error) && result.duplicate === false)).toBe(true);
    for (let m = 0; m < 3; m++) expect(await admin.xlen(keys.stream(`merchant:m_flush${m}`))).toBe(4);
    // And again by id: nothing published twice.
    const again = await Promise.all(events.map((event) => broker.publishEvents([event]).then(([result]) => result!)));
    expect(again.every((result) => !(result instanceof Error) && result.duplicate)).toBe(true);
  });
});
