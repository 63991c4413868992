/**
 * The Redis Cluster engine while the cluster's topology changes under a steady publish
 * load: slots resharded with `redis-cli --cluster reshard` (Redis drops the moved
 * slots' shard subscriptions), and a master SIGKILLed (its replica promoted). The
 * subscriber's listener fills gaps from history the way the edge's hub does; every
 * publication that resolved must reach it exactly once, and only the channels of the
 * moved slots or the failed shard may stall (onChannelsLost / onChannelsRestored, the
 * broker staying `ready`). Publishing retries refusals (MOVED, ASK, TRYAGAIN,
 * CLUSTERDOWN) within its deadline, so during a reshard no publish fails. Events are
 * told apart by their ids, which the envelopes carry live and from history.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, BrokerListener, EventPublishRequest } from '@herald/broker';
import { eventRequest, idOf } from '../packages/broker/test/conformance.js';
import { createRedisBroker, type RedisBroker } from '@herald/broker/redis';
import { compareSeq } from '@herald/protocol';
import { debugLogger, startRedisCluster, uniquePrefix, type RedisClusterHandle } from './support/redis.js';

const CHANNELS = 48;

/** Delivers in seq order once; on a loss, fills from history after the last seq it delivered. */
class FillingListener implements BrokerListener {
  broker!: Broker;
  /** Per channel, the seqs delivered, in order. */
  readonly delivered = new Map<string, string[]>();
  /** Per channel, the event ids delivered, in the same order. */
  readonly deliveredIds = new Map<string, string[]>();
  readonly lostAt = new Map<string, number>();
  /** How long each loss lasted, per channel, in ms. */
  readonly stalls: number[] = [];
  readonly lostChannels = new Set<string>();
  disconnects = 0;
  gaps = 0;
  private readonly filling = new Map<string, Array<[string, Buffer]>>();

  onPublication(channel: string, seq: string, envelope: Buffer): void {
    const buffer = this.filling.get(channel);
    // The envelope is a view of ioredis's buffer: copied while it is held.
    if (buffer) buffer.push([seq, Buffer.from(envelope)]);
    else this.deliver(channel, seq, envelope);
  }
  onDisconnected(): void {
    this.disconnects += 1;
  }
  onResubscribed(): void {
    for (const channel of this.delivered.keys()) void this.fill(channel);
  }
  onChannelsLost(channels: readonly string[]): void {
    for (const channel of channels) {
      this.lostChannels.add(channel);
      if (!this.lostAt.has(channel)) this.lostAt.set(channel, Date.now());
    }
  }
  onChannelsRestored(channels: readonly string[]): void {
    for (const channel of channels) {
      const at = this.lostAt.get(channel);
      if (at !== undefined) this.stalls.push(Date.now() - at);
      this.lostAt.delete(channel);
      void this.fill(channel);
    }
  }

  private deliver(channel: string, seq: string, envelope: Buffer): void {
    const list = this.delivered.get(channel)!;
    const last = list.at(-1);
    if (last !== undefined && compareSeq(seq, last) <= 0) return;
    list.push(seq);
    this.deliveredIds.get(channel)!.push(idOf(envelope));
  }

  private async fill(channel: string): Promise<void> {
    const buffer: Array<[string, Buffer]> = [];
    this.filling.set(channel, buffer);
    const since = this.delivered.get(channel)!.at(-1) ?? '0-0';
    for (;;) {
      try {
        const result = await this.broker.history(channel, since);
        if (!result.complete) this.gaps += 1;
        else for (const publication of result.publications) this.deliver(channel, publication.seq, publication.envelope);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    this.filling.delete(channel);
    for (const [seq, envelope] of buffer) this.deliver(channel, seq, envelope);
  }
}

/** Publishes one batch over every channel at a time, retrying refused ones like a producer. */
class Load {
  /** Per channel, the ids of the events accepted. */
  readonly accepted = new Map<string, string[]>();
  failed = 0;
  private running = true;
  private loop: Promise<void>;

  constructor(
    private readonly broker: Broker,
    private readonly channels: readonly string[],
  ) {
    for (const channel of channels) this.accepted.set(channel, []);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + 120_000;
    while (this.running && Date.now() < deadline) {
      let batch: EventPublishRequest[] = this.channels.map((channel) => eventRequest([channel]));
      for (let attempt = 0; batch.length > 0 && attempt < 20; attempt++) {
        const results = await this.broker.publishEvents(batch);
        const retry: EventPublishRequest[] = [];
        results.forEach((result, i) => {
          const event = batch[i]!;
          if (result instanceof Error) {
            this.failed += 1;
            retry.push(event);
            // A retry may find the first attempt applied after all (duplicate): the event counts once.
          } else this.accepted.get(event.requests[0]!.channel)!.push(event.id);
        });
        batch = retry;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

let cluster: RedisClusterHandle;
const brokers: RedisBroker[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster(3, { replicas: 1, clusterNodeTimeoutMs: 2_000 });
});
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.stop()));
});
afterAll(async () => {
  await cluster?.stop();
});

async function scenario(change: () => Promise<void>): Promise<{ listener: FillingListener; load: Load; sub: RedisBroker }> {
  const keyPrefix = uniquePrefix('topology');
  const connection = { clusterNodes: cluster.startupNodes.filter((_, i) => cluster.nodes[i]!.running) };
  const sub = createRedisBroker(connection, { keyPrefix, logger: debugLogger() });
  const pub = createRedisBroker(connection, { keyPrefix, logger: debugLogger() });
  brokers.push(sub, pub);
  const listener = new FillingListener();
  listener.broker = sub;
  await Promise.all([sub.start(listener), pub.start(listener)]);
  const channels = Array.from({ length: CHANNELS }, (_, i) => `merchant:topo_${process.pid}_${i}`);
  for (const channel of channels) {
    listener.delivered.set(channel, []);
    listener.deliveredIds.set(channel, []);
  }
  await Promise.all(channels.map((channel) => sub.subscribe(channel)));
  const load = new Load(pub, channels);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await change();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await load.stop();
  // Quiescence: every accepted event delivered (or a bound passed).
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && channels.some((channel) => listener.deliveredIds.get(channel)!.length < load.accepted.get(channel)!.length)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let lost = 0;
  let extra = 0;
  for (const channel of channels) {
    const want = new Set(load.accepted.get(channel)!);
    const got = listener.deliveredIds.get(channel)!;
    lost += [...want].filter((id) => !got.includes(id)).length;
    // Delivered twice, or never accepted: both are extra.
    extra += got.length - new Set(got.filter((id) => want.has(id))).size;
  }
  const published = [...load.accepted.values()].reduce((n, list) => n + list.length, 0);
  console.log(
    `[topology] published ${published}, refused attempts ${load.failed}, lost ${lost}, extra ${extra}, gaps ${listener.gaps}, ` +
      `channels lost ${listener.lostChannels.size}/${CHANNELS}, disconnects ${listener.disconnects}, longest stall ${Math.max(0, ...listener.stalls)} ms, state ${sub.state}`,
  );
  expect({ lost, extra, gaps: listener.gaps, disconnects: listener.disconnects }).toEqual({ lost: 0, extra: 0, gaps: 0, disconnects: 0 });
  expect(sub.state).toBe('ready');
  return { listener, load, sub };
}

describe('Redis Cluster engine under topology change', () => {
  it('keeps every subscription through a reshard, stalling only the moved channels', { timeout: 120_000 }, async () => {
    let moved = 0;
    const { listener, load } = await scenario(async () => {
      const [from, to] = await cluster.masters();
      moved = Math.floor(from!.slots / 2);
      await cluster.reshard(from!, to!, moved);
    });
    // Half of one master's slots: some channels moved, most did not.
    expect(listener.lostChannels.size).toBeGreaterThan(0);
    expect(listener.lostChannels.size).toBeLessThan(CHANNELS);
    // A reshard refuses nothing for longer than the publish deadline.
    expect(load.failed).toBe(0);
  });

  it('keeps every subscription through a master failover, stalling only its channels', { timeout: 120_000 }, async () => {
    const { listener } = await scenario(async () => {
      const [victim] = await cluster.masters();
      await cluster.failover(victim!);
    });
    expect(listener.lostChannels.size).toBeGreaterThan(0);
    expect(listener.lostChannels.size).toBeLessThan(CHANNELS);
  });
});
