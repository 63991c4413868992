/**
 * The Redis engines across outages: the subscriber's connection killed (CLIENT KILL),
 * Redis killed and restarted, and a cluster master killed and restarted. The listener
 * must hear onDisconnected then onResubscribed, publishing must fail fast with
 * BrokerUnavailableError while Redis is unreachable, live delivery must resume, and
 * history must cover the gap (or say it cannot, when Redis lost its data).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailableError, type Broker } from '@herald/broker';
import type { EventInput } from '@herald/protocol';
import { RecordingListener, eventRequest, makeEvent, publishOne } from '../packages/broker/test/conformance.js';
import { createRedisBroker, keySlot, type RedisBroker, type RedisConnectionOptions } from '@herald/broker/redis';
import { compareSeq } from '@herald/protocol';
import { Redis } from 'ioredis';
import { debugLogger, redisCli, startRedis, startRedisCluster, uniquePrefix, type RedisClusterHandle, type RedisServer } from './support/redis.js';

/** Every broker made by a test, stopped after it whatever happened. */
const brokers: RedisBroker[] = [];

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.stop()));
});

async function node(connection: RedisConnectionOptions, keyPrefix: string): Promise<{ broker: RedisBroker; listener: RecordingListener }> {
  const broker = createRedisBroker(connection, { keyPrefix, operationTimeoutMs: 2_000, commandTimeoutMs: 1_000, logger: debugLogger() });
  brokers.push(broker);
  const listener = new RecordingListener();
  await broker.start(listener);
  return { broker, listener };
}

/**
 * What a producer does on 503: retry the same event (same id) until Redis takes it,
 * within a bound; resolves with its seq. A retry of an attempt that did land is a
 * duplicate and publishes nothing.
 */
async function publishWithRetry(broker: Broker, channel: string, event: EventInput = makeEvent(), timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await publishOne(broker, channel, event);
    } catch (error) {
      if (!(error instanceof BrokerUnavailableError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Asserts the call rejects with BrokerUnavailableError, and soon. */
async function rejectsFast(call: () => Promise<unknown>, withinMs = 2_500): Promise<void> {
  const started = Date.now();
  await expect(call()).rejects.toBeInstanceOf(BrokerUnavailableError);
  expect(Date.now() - started).toBeLessThan(withinMs);
}

let counter = 0;
const channel = (name = 'ch') => `reconnect:${name}_${(counter += 1)}`;

describe('Redis engine reconnection (one Redis)', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('resubscribes after its subscriber connection is killed, and history covers the gap', async () => {
    const keyPrefix = uniquePrefix('reconnect');
    const sub = await node({ url: redis.url }, keyPrefix);
    const pub = await node({ url: redis.url }, keyPrefix);
    const ch = channel();
    await sub.broker.subscribe(ch);
    const first = await publishOne(pub.broker, ch);
    await sub.listener.waitFor(1);

    await redisCli(redis, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    await sub.listener.waitForDisconnects(1);
    expect(sub.broker.state).toBe('disconnected');
    // The command connection is untouched: publishing goes on during the gap.
    const during = [await publishOne(pub.broker, ch), await publishOne(pub.broker, ch)];

    await sub.listener.waitForResubscribes(1);
    expect(sub.listener.disconnects).toBe(1);
    expect(sub.broker.state).toBe('ready');
    const after = await publishOne(pub.broker, ch);
    await sub.listener.waitFor(2);
    const live = sub.listener.received.map((r) => r.seq);
    expect(live.at(-1)).toBe(after);
    for (let i = 1; i < live.length; i++) expect(compareSeq(live[i - 1]!, live[i]!)).toBeLessThan(0);

    // The hub's gap fill: everything after the last seq delivered before the loss.
    const filled = await sub.broker.history(ch, first);
    expect(filled.complete).toBe(true);
    if (filled.complete) expect(filled.publications.map((p) => p.seq)).toEqual([...during, after]);
  });

  it('reports the loss of its command connection the same way, as the cue to fill gaps', async () => {
    const keyPrefix = uniquePrefix('commands');
    const sub = await node({ url: redis.url }, keyPrefix);
    const pub = await node({ url: redis.url }, keyPrefix);
    const ch = channel();
    await sub.broker.subscribe(ch);
    const first = await publishOne(pub.broker, ch);
    await sub.listener.waitFor(1);

    // Normal (non pub/sub) connections: both brokers' command clients.
    await redisCli(redis, 'CLIENT', 'KILL', 'TYPE', 'normal');
    await sub.listener.waitForDisconnects(1);
    await sub.listener.waitForResubscribes(1);
    expect(sub.broker.state).toBe('ready');
    const after = await publishWithRetry(pub.broker, ch);
    await sub.listener.waitFor(2);
    expect(sub.listener.received.map((r) => r.seq)).toEqual([first, after]);
    expect(await sub.broker.history(ch, first)).toMatchObject({ complete: true, publications: [{ seq: after }] });
  });

  it('fails fast while Redis is down, resubscribes when it is back, and reports lost history', async () => {
    const keyPrefix = uniquePrefix('restart');
    const sub = await node({ url: redis.url }, keyPrefix);
    const pub = await node({ url: redis.url }, keyPrefix);
    const ch = channel();
    await sub.broker.subscribe(ch);
    const before = await publishOne(pub.broker, ch);
    await sub.listener.waitFor(1);

    await redis.kill();
    await sub.listener.waitForDisconnects(1);
    expect(sub.broker.state).toBe('disconnected');
    await rejectsFast(() => publishOne(pub.broker, ch));
    await rejectsFast(() => pub.broker.history(ch, before));
    await rejectsFast(() => pub.broker.position(ch));
    const batch = await pub.broker.publishEvents([eventRequest([ch]), eventRequest([ch])]);
    expect(batch.map((r) => r instanceof BrokerUnavailableError)).toEqual([true, true]);
    // Subscribing while disconnected resolves once the subscription is live.
    const late = channel('late');
    const lateSubscribed = sub.broker.subscribe(late);

    await redis.restart();
    await sub.listener.waitForResubscribes(1);
    await lateSubscribed;
    expect(sub.broker.state).toBe('ready');
    const after = await publishWithRetry(pub.broker, ch);
    const lateSeq = await publishOne(pub.broker, late);
    await sub.listener.waitFor(3);
    expect(sub.listener.received.map((r) => r.seq)).toEqual([before, after, lateSeq]);
    expect(compareSeq(after, before)).toBeGreaterThan(0);

    // Redis restarted without persistence: the gap cannot be recovered, and history says so.
    expect((await sub.broker.history(ch, before)).complete).toBe(false);
    expect(await sub.broker.history(ch, after)).toEqual({ complete: true, publications: [] });
  });
});

describe('Redis engine start', () => {
  it('rejects start with BrokerUnavailableError when Redis is unreachable, and stops cleanly', async () => {
    const gone = await startRedis();
    await gone.stop();
    const broker = createRedisBroker({ url: gone.url }, { keyPrefix: uniquePrefix('unreachable'), startTimeoutMs: 500 });
    brokers.push(broker);
    await expect(broker.publishEvents([eventRequest([channel()])])).rejects.toBeInstanceOf(BrokerUnavailableError);
    const started = Date.now();
    await expect(broker.start(new RecordingListener())).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(broker.state).toBe('connecting');
    await broker.stop();
    expect(broker.state).toBe('closed');
  });
});

describe('Redis engine reconnection (Redis Cluster)', () => {
  let cluster: RedisClusterHandle;

  beforeAll(async () => {
    cluster = await startRedisCluster(3, { clusterNodeTimeoutMs: 1_000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('resubscribes after the shard subscriber connections are killed', async () => {
    const keyPrefix = uniquePrefix('cluster-kill');
    const connection = { clusterNodes: cluster.startupNodes };
    const sub = await node(connection, keyPrefix);
    const pub = await node(connection, keyPrefix);
    // Channels spread over the masters.
    const channels = Array.from({ length: 6 }, () => channel());
    await Promise.all(channels.map((ch) => sub.broker.subscribe(ch)));
    const firsts = await Promise.all(channels.map((ch) => publishOne(pub.broker, ch)));
    await sub.listener.waitFor(channels.length);

    await Promise.all(cluster.nodes.map((server) => redisCli(server, 'CLIENT', 'KILL', 'TYPE', 'pubsub')));
    await sub.listener.waitForDisconnects(1);
    await sub.listener.waitForResubscribes(1);
    expect(sub.broker.state).toBe('ready');

    const afters = await Promise.all(channels.map((ch) => publishOne(pub.broker, ch)));
    await sub.listener.waitFor(channels.length * 2);
    const lastSeen = new Map(sub.listener.received.map((r) => [r.channel, r.seq]));
    channels.forEach((ch, i) => expect(lastSeen.get(ch)).toBe(afters[i]));
    for (const [i, ch] of channels.entries()) {
      const filled = await sub.broker.history(ch, firsts[i]!);
      expect(filled).toMatchObject({ complete: true });
    }
  });

  it('fails fast while a master is down and recovers when it is back', async () => {
    const keyPrefix = uniquePrefix('cluster-restart');
    const connection = { clusterNodes: cluster.startupNodes };
    const sub = await node(connection, keyPrefix);
    const pub = await node(connection, keyPrefix);
    const ch = channel();
    await sub.broker.subscribe(ch);
    const before = await publishOne(pub.broker, ch);
    await sub.listener.waitFor(1);

    const owner = await ownerOf(cluster, keySlot(`{${ch}}`));
    await owner.kill();
    await sub.listener.waitForDisconnects(1);
    await rejectsFast(() => publishOne(pub.broker, ch), 4_000);

    await owner.restart();
    await cluster.waitUntilOk();
    await sub.listener.waitForResubscribes(1);
    const after = await publishWithRetry(pub.broker, ch);
    await sub.listener.waitFor(2);
    expect(sub.listener.received.map((r) => r.seq)).toEqual([before, after]);
    // The restarted master lost the channel's data (no persistence).
    expect((await sub.broker.history(ch, before)).complete).toBe(false);
  });
});

/** The master that owns `slot`, from CLUSTER SLOTS. */
async function ownerOf(cluster: RedisClusterHandle, slot: number): Promise<RedisServer> {
  const admin = new Redis({ host: cluster.nodes[0]!.host, port: cluster.nodes[0]!.port, lazyConnect: true });
  admin.on('error', () => undefined);
  try {
    // [[start, end, [host, port, id, info], ...replicas], ...]
    const ranges = await admin.cluster('SLOTS');
    const range = ranges.find(([start, end]) => slot >= start && slot <= end);
    const server = cluster.nodes.find((candidate) => candidate.port === range?.[2]?.[1]);
    if (!server) throw new Error(`no master found for slot ${slot}`);
    return server;
  } finally {
    admin.disconnect();
  }
}
