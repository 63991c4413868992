/**
 * publishEvents on both Redis engines when an earlier attempt failed half-way: the
 * event's key says 'p' (the cluster path claims before it publishes) and one channel
 * already has the event under its dedupe key. The retry must complete the event
 * without publishing it twice to that channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { eventRequest, makeEvent, request } from '../packages/broker/test/conformance.js';
import { createRedisBroker, KeyLayout, type RedisBroker } from '@herald/broker/redis';
import type { BrokerListener } from '@herald/broker';
import { startRedis, startRedisCluster, uniquePrefix, type RedisClusterHandle, type RedisServer } from './support/redis.js';

const silent: BrokerListener = { onPublication: () => undefined, onDisconnected: () => undefined, onResubscribed: () => undefined };

let redis: RedisServer;
let cluster: RedisClusterHandle;

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster(3)]);
});

afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

const engines = [
  { name: 'redis', broker: (keyPrefix: string) => createRedisBroker({ url: redis.url }, { keyPrefix }), admin: () => new Redis(redis.url) },
  { name: 'redis-cluster', broker: (keyPrefix: string) => createRedisBroker({ clusterNodes: cluster.startupNodes }, { keyPrefix }), admin: () => new Cluster([...cluster.startupNodes]) },
];

describe.each(engines)('publishEvents after a half-done attempt: $name', (engine) => {
  it("remembers an event's id for its own idTtlMs when it sets one, else for the broker's window", async () => {
    const keyPrefix = uniquePrefix('idttl');
    const keys = new KeyLayout(keyPrefix);
    const broker: RedisBroker = engine.broker(keyPrefix);
    const admin = engine.admin();
    try {
      await broker.start(silent);
      const short = makeEvent();
      const usual = makeEvent();
      const [first] = await broker.publishEvents([{ ...eventRequest(['merchant:m_idttl'], short), idTtlMs: 5_000 }, eventRequest(['merchant:m_idttl'], usual)]);
      expect(first).toEqual({ duplicate: false, channels: ['merchant:m_idttl'] });
      const shortTtl = await admin.pttl(keys.event(short.id!));
      expect(shortTtl).toBeGreaterThan(0);
      expect(shortTtl).toBeLessThanOrEqual(5_000);
      // The default window (IDEMPOTENCY_TTL, a day unless set).
      expect(await admin.pttl(keys.event(usual.id!))).toBeGreaterThan(3_600_000);
      // Within its window, a repeat is still a duplicate.
      const [again] = await broker.publishEvents([{ ...eventRequest(['merchant:m_idttl'], short), idTtlMs: 5_000 }]);
      expect(again).toEqual({ duplicate: true, channels: ['merchant:m_idttl'] });
    } finally {
      await broker.stop();
      admin.disconnect();
    }
  });

  it('publishes to the missing channel only, then reports the event done', async () => {
    const keyPrefix = uniquePrefix('events');
    const keys = new KeyLayout(keyPrefix);
    const broker: RedisBroker = engine.broker(keyPrefix);
    const admin = engine.admin();
    try {
      await broker.start(silent);
      const [a, b] = ['merchant:m_half', 'payment:pay_half'];
      const event = makeEvent();
      const id = event.id!;
      // The failed attempt: claimed, published to a (with a's dedupe key for the id, as
      // the cluster path writes it), never completed. Published through publishEvents,
      // then the records put back to what the half-done attempt leaves.
      await broker.publishEvents([eventRequest([a], event)]);
      const earlier = (await broker.position(a))!;
      await admin.set(keys.event(id), 'p', 'PX', 60_000);
      await admin.set(keys.dedupe(a, id), earlier, 'PX', 60_000);

      const [retry] = await broker.publishEvents([{ id, requests: [request(a, event), request(b, event)] }]);
      expect(retry).toEqual({ duplicate: false, channels: [a, b] });
      expect(await broker.position(a)).toBe(earlier);
      const inB = await broker.position(b);
      expect(inB).toBeDefined();
      expect(await broker.history(a, earlier)).toEqual({ complete: true, publications: [] });

      const [again] = await broker.publishEvents([{ id, requests: [request(a, event), request(b, event)] }]);
      expect(again).toEqual({ duplicate: true, channels: [a, b] });
      expect(await broker.position(b)).toBe(inB);
      expect(JSON.parse((await admin.get(keys.event(id)))!)).toEqual([a, b]);
    } finally {
      await broker.stop();
      admin.disconnect();
    }
  });
});
