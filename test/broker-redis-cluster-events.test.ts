/**
 * publishEvents on a Redis Cluster, batched per shard: each of its three steps (claim
 * the ids, publish, mark them done) is one pipeline per master for the whole batch,
 * not one command per event; and while slots move (`redis-cli --cluster reshard`),
 * claims and completions refused with MOVED/ASK inside a pipeline are sent again and
 * followed, so every event lands once in each of its channels and ends up recorded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import type { BrokerListener, EventPublishRequest } from '@herald/broker';
import { makeEvent, request } from '../packages/broker/test/conformance.js';
import { createRedisBroker, KeyLayout, type RedisBroker } from '@herald/broker/redis';
import { debugLogger, startRedisCluster, uniquePrefix, type RedisClusterHandle } from './support/redis.js';

const silent: BrokerListener = { onPublication: () => undefined, onDisconnected: () => undefined, onResubscribed: () => undefined };

let cluster: RedisClusterHandle;
let admin: Cluster;
const brokers: RedisBroker[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  admin = new Cluster([...cluster.startupNodes]);
  admin.on('error', () => undefined);
});
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.stop()));
});
afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

async function startBroker(keyPrefix: string): Promise<RedisBroker> {
  const broker = createRedisBroker({ clusterNodes: cluster.startupNodes }, { keyPrefix, logger: debugLogger() });
  brokers.push(broker);
  await broker.start(silent);
  return broker;
}

/** An event on two channels of `channels`, chosen by `n`. */
function eventOn(channels: readonly string[], n: number): EventPublishRequest {
  const event = makeEvent();
  return { id: event.id!, requests: [request(channels[n % channels.length]!, event), request(channels[(n + 7) % channels.length]!, event)] };
}

/** The event ids in a channel's stream, oldest first. */
async function idsIn(keys: KeyLayout, channel: string): Promise<string[]> {
  const entries = await admin.xrange(keys.stream(channel), '-', '+');
  return entries.map(([, fields]) => (JSON.parse(fields[1]!) as { id: string }).id);
}

describe('publishEvents on a Redis Cluster, per shard', () => {
  it('sends each step of a batch as one pipeline per master, whatever the number of events', async () => {
    const keyPrefix = uniquePrefix('events-batch');
    const broker = await startBroker(keyPrefix);
    const channels = Array.from({ length: 60 }, (_, i) => `merchant:batch_${i}`);
    // Warm up: the slot map and the script cache of every master.
    await broker.publishEvents(channels.map((_, n) => eventOn(channels, n)));

    // The command client, counted: pipelines sent, and commands sent on their own.
    const client = (broker as unknown as { client: Cluster }).client;
    let pipelines = 0;
    let alone = 0;
    const pipeline = client.pipeline.bind(client);
    client.pipeline = ((...args: Parameters<Cluster['pipeline']>) => {
      pipelines += 1;
      return pipeline(...args);
    }) as Cluster['pipeline'];
    for (const name of ['call', 'set', 'get', 'eval', 'evalsha'] as const) {
      const original = (client[name] as (...args: unknown[]) => unknown).bind(client);
      (client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        alone += 1;
        return original(...args);
      };
    }

    const events = Array.from({ length: 200 }, (_, n) => eventOn(channels, n));
    const results = await broker.publishEvents(events);
    expect(results.every((result) => !(result instanceof Error) && !result.duplicate)).toBe(true);
    const masters = (await cluster.masters()).length;
    // Claims, publications, completions: at most one pipeline per master each.
    expect(alone).toBe(0);
    expect(pipelines).toBeLessThanOrEqual(3 * masters);

    // A repeat is one pipeline per master (the claims), and names the first channels.
    pipelines = 0;
    const again = await broker.publishEvents(events.slice(0, 50).map((event) => ({ ...event, requests: event.requests.slice(0, 1) })));
    expect(again).toEqual(events.slice(0, 50).map((event) => ({ duplicate: true, channels: event.requests.map((r) => r.channel) })));
    expect(pipelines).toBeLessThanOrEqual(masters);
    expect(alone).toBe(0);

    const keys = new KeyLayout(keyPrefix);
    const perChannel = new Map<string, string[]>();
    for (const event of events) {
      for (const { channel } of event.requests) perChannel.set(channel, [...(perChannel.get(channel) ?? []), event.id]);
    }
    for (const [channel, ids] of perChannel) {
      const stored = await idsIn(keys, channel);
      // The warm-up events come first; then this batch's, in batch order, each once.
      expect(stored.slice(-ids.length)).toEqual(ids);
    }
  });

  it('stores every event once, and records it, while slots move under a publishEvents load', { timeout: 120_000 }, async () => {
    const keyPrefix = uniquePrefix('events-reshard');
    const keys = new KeyLayout(keyPrefix);
    const broker = await startBroker(keyPrefix);
    const channels = Array.from({ length: 48 }, (_, i) => `merchant:reshard_${process.pid}_${i}`);
    const accepted: EventPublishRequest[] = [];
    let refused = 0;
    let running = true;
    let n = 0;
    const load = (async () => {
      // Bounded so that every channel's history (1000) holds all of its events.
      while (running && accepted.length < 15_000) {
        let batch = Array.from({ length: 40 }, () => eventOn(channels, (n += 1)));
        // Like a producer: what failed is sent again with the same id.
        for (let attempt = 0; batch.length > 0 && attempt < 20; attempt++) {
          const results = await broker.publishEvents(batch);
          const retry: EventPublishRequest[] = [];
          results.forEach((result, i) => {
            if (result instanceof Error) {
              refused += 1;
              retry.push(batch[i]!);
            } else accepted.push(batch[i]!);
          });
          batch = retry;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [from, to] = await cluster.masters();
    await cluster.reshard(from!, to!, Math.floor(from!.slots / 2));
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await load;

    expect(accepted.length).toBeGreaterThan(200);
    const expected = new Map<string, string[]>(channels.map((channel) => [channel, []]));
    for (const event of accepted) for (const { channel } of event.requests) expected.get(channel)!.push(event.id);
    for (const channel of channels) {
      const stored = await idsIn(keys, channel);
      // Exactly once each (history is large enough to hold them all); order within a
      // channel is the order the events were accepted in, retries included.
      expect(new Set(stored).size).toBe(stored.length);
      expect([...stored].sort()).toEqual([...expected.get(channel)!].sort());
    }
    // Every event's id is recorded with its channels (no claim left pending).
    const records = await Promise.all(accepted.map((event) => admin.get(keys.event(event.id))));
    expect(records.filter((record) => record === 'p')).toEqual([]);
    records.forEach((record, i) => expect(JSON.parse(record!)).toEqual(accepted[i]!.requests.map((r) => r.channel)));
    console.log(`[events reshard] ${accepted.length} events accepted, ${refused} refused attempts retried`);
  });
});
