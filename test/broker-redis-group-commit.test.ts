/**
 * Group commit of lone publishEvents calls on one Redis: while one call is out, the
 * calls made in later turns of the event loop wait for its reply and then leave
 * together as one pipeline, each keeping its own reply. A paused Redis (CLIENT PAUSE
 * WRITE holds scripts) keeps the first call out for as long as the test needs.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { envelopeTemplate } from '@herald/protocol';
import { KeyLayout, RedisBroker } from '@herald/broker/redis';
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

let counter = 0;
function oneEvent(channel: string): EventPublishRequest {
  counter += 1;
  const id = `evt_gc_${process.pid}_${counter}`;
  const event = { type: 'payment.created', id, timestamp: new Date().toISOString(), data: JSON.stringify({ merchant_id: 'm_1', n: counter }) };
  return { id, requests: [{ channel, template: envelopeTemplate(event, channel) }] };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('publishEvents group commit on one Redis', () => {
  const keyPrefix = uniquePrefix('groupcommit');
  const keys = new KeyLayout(keyPrefix);
  let client: Redis;
  let subscriber: Redis;
  let broker: RedisBroker;

  beforeAll(async () => {
    client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    subscriber = new Redis(redis.url, { lazyConnect: true, autoResubscribe: false });
    broker = new RedisBroker({ client, subscriber, keyPrefix, closeClientsOnStop: true });
    await broker.start(silent);
    // Load the script so that every measured call is an EVALSHA.
    await broker.publishEvents([oneEvent('warm:up')]);
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('calls made while one is out leave together when it replies, each with its own result', async () => {
    const lone = vi.spyOn(client, 'call');
    const pipelines = vi.spyOn(client, 'pipeline');
    try {
      await admin.client('PAUSE', 2000, 'WRITE');
      const first = broker.publishEvents([oneEvent('merchant:m_gc')]);
      // Wait until the first call is written, so the ones below find it out.
      await vi.waitFor(() => expect(lone).toHaveBeenCalledTimes(1), { interval: 1 });
      const later: Array<Promise<unknown>> = [];
      for (let i = 0; i < 10; i++) {
        later.push(broker.publishEvents([oneEvent('merchant:m_gc')]));
        await nextTurn();
      }
      // Still paused: nothing else was sent in the meantime.
      expect(lone).toHaveBeenCalledTimes(1);
      expect(pipelines).not.toHaveBeenCalled();
      await admin.client('UNPAUSE');
      const results = await Promise.all([first, ...later]);
      expect(results.flat().every((result) => !(result instanceof Error) && (result as { duplicate: boolean }).duplicate === false)).toBe(true);
      // The ten went as one pipeline behind the first call, not as ten lone calls.
      expect(lone).toHaveBeenCalledTimes(1);
      expect(pipelines).toHaveBeenCalledTimes(1);
      expect(await admin.xlen(keys.stream('merchant:m_gc'))).toBe(11);
    } finally {
      await admin.client('UNPAUSE');
      lone.mockRestore();
      pipelines.mockRestore();
    }
  });

  it('a lone call on a quiet broker leaves at once, alone', async () => {
    const lone = vi.spyOn(client, 'call');
    const pipelines = vi.spyOn(client, 'pipeline');
    try {
      const [result] = await broker.publishEvents([oneEvent('merchant:m_quiet')]);
      expect(result).toMatchObject({ duplicate: false });
      expect(lone).toHaveBeenCalledTimes(1);
      expect(pipelines).not.toHaveBeenCalled();
    } finally {
      lone.mockRestore();
      pipelines.mockRestore();
    }
  });
});
