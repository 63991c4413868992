/**
 * Herald on a Redis Cluster of three masters (REDIS_CLUSTER_NODES, sharded pub/sub):
 * two edges and one ingest. Events of channels spread over every master's slots are
 * delivered once and in order on both edges; a client resumes with `since` on the other
 * edge; and MAX_CONNECTIONS holds exactly (the admission keys share one hash tag).
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '@herald/broker/redis';
import { expectOrderedOnce, startCluster, stopAllProcesses, waitUntil, type Cluster as Herald } from '../support/cluster.js';
import { paymentCreated, publish, publishBatch } from '../support/ingest.js';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';

const MAX = 30;
const CHANNELS = 24;
const PER_CHANNEL = 10;

let redis: RedisClusterHandle;
let admin: Cluster;
let herald: Herald;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedisCluster(3);
  admin = new Cluster([...redis.startupNodes]);
  admin.on('error', () => undefined);
  herald = await startCluster({ redis, label: 'rc', edges: 2, ingests: 1, edgeEnv: { MAX_CONNECTIONS: String(MAX), MAX_COMMANDS_PER_SECOND: '1000' } });
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  admin?.disconnect();
  await stopAllProcesses();
  await redis?.stop();
});

async function open(node: number, channels: string[]): Promise<TestClient> {
  const client = await TestClient.open(herald.edges[node]!.wsUrl, { token: clientToken({ sub: `rc-${node}`, channels }) });
  clients.push(client);
  return client;
}

/** Master (host:port) serving each slot, from CLUSTER SLOTS. */
async function slotOwners(): Promise<(slot: number) => string> {
  const ranges = await admin.cluster('SLOTS');
  return (slot) => {
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
    return `${range[2]![1]}`;
  };
}

describe('Herald on a Redis Cluster', () => {
  it('delivers events of channels on every master once and in order, on both edges', async () => {
    const owner = await slotOwners();
    const run = `${process.pid}_${Date.now().toString(36)}`;
    const merchants = Array.from({ length: CHANNELS }, (_, i) => `m_rc_${run}_${i}`);
    const channels = merchants.map((merchant) => `merchant:${merchant}`);
    // The channels' keys (hash tag = the channel) land on every master.
    const masters = new Map<string, number>();
    for (const channel of channels) masters.set(owner(keySlot(`{${channel}}`)), (masters.get(owner(keySlot(`{${channel}}`))) ?? 0) + 1);
    expect(masters.size).toBe(3);

    const subscribers = await Promise.all([0, 1].map((node) => open(node, ['merchant:*'])));
    for (const client of subscribers) {
      const replies = await Promise.all(channels.map((channel) => client.subscribe(channel)));
      expect(replies.every((reply) => reply.type === 'subscribed')).toBe(true);
    }

    // One batch interleaving every channel (kept in order per channel), plus single
    // publishes concurrently on top.
    const batch = Array.from({ length: CHANNELS * PER_CHANNEL }, (_, i) => paymentCreated(merchants[i % CHANNELS]!));
    const singles = merchants.map((merchant) => paymentCreated(merchant));
    const [batchAnswer, ...singleAnswers] = await Promise.all([publishBatch(herald.ingests[0]!.url, batch), ...singles.map((event) => publish(herald.ingests[0]!.url, event))]);
    expect(batchAnswer!.status).toBe(207);
    expect(batchAnswer!.body.results.every((result: { status: number }) => result.status === 202)).toBe(true);
    expect(singleAnswers.every((answer) => answer.status === 202)).toBe(true);

    for (const client of subscribers) {
      await client.waitForEvents(CHANNELS * (PER_CHANNEL + 1), undefined, 20_000);
      await client.sync();
      expect(client.events()).toHaveLength(CHANNELS * (PER_CHANNEL + 1));
      for (const [m, channel] of channels.entries()) {
        const events = client.events(channel);
        expectOrderedOnce(events);
        const fromBatch = batch.filter((_, i) => i % CHANNELS === m).map((event) => event.id);
        // The batch's events in the batch's order; the single one somewhere among them.
        expect(events.map((event) => event.id).filter((id) => id !== singles[m]!.id)).toEqual(fromBatch);
        expect(events.filter((event) => event.id === singles[m]!.id)).toHaveLength(1);
      }
    }
    // Both edges saw the same seq for the same event.
    const seqs = (client: TestClient) => Object.fromEntries(client.events().map((event: Frame) => [`${event.channel} ${event.id}`, event.seq]));
    expect(seqs(subscribers[1]!)).toEqual(seqs(subscribers[0]!));
    await Promise.all(subscribers.map((client) => client.close()));
  });

  it('resumes with since on the other edge', async () => {
    const merchant = `m_rc_rec_${process.pid}_${Date.now().toString(36)}`;
    const channel = `merchant:${merchant}`;
    const first = await open(0, [channel]);
    await first.subscribe(channel);
    const before = [paymentCreated(merchant), paymentCreated(merchant)];
    for (const event of before) expect((await publish(herald.ingests[0]!.url, event)).status).toBe(202);
    const seen = await first.waitForEvents(2, channel);
    await first.close();

    const missed = Array.from({ length: 5 }, () => paymentCreated(merchant));
    expect((await publishBatch(herald.ingests[0]!.url, missed)).status).toBe(207);
    const second = await open(1, [channel]);
    const reply = await second.subscribe(channel, seen.at(-1)!.seq);
    expect(reply.data).toEqual({ channel, recovered: true, missed: 5 });
    const live = paymentCreated(merchant);
    expect((await publish(herald.ingests[0]!.url, live)).status).toBe(202);
    await second.waitForEvents(6, channel);
    await second.sync();
    expect(second.events(channel).map((event) => event.id)).toEqual([...missed, live].map((event) => event.id));
    expectOrderedOnce([...seen, ...second.events(channel)]);
    await second.close();
  });

  it('consumes the Redis ingest stream on the cluster', async () => {
    const merchant = `m_rc_stream_${process.pid}_${Date.now().toString(36)}`;
    const channel = `merchant:${merchant}`;
    const client = await open(1, [channel]);
    await client.subscribe(channel);
    const event = paymentCreated(merchant);
    await admin.xadd(`${herald.prefix}:ingest`, '*', 'event', JSON.stringify(event));
    const [delivered] = await client.waitForEvents(1, channel);
    expect(delivered).toMatchObject({ id: event.id, channel, data: event.data });
    await client.close();
  });

  it('admits exactly MAX_CONNECTIONS across both edges', async () => {
    const total = `{${herald.prefix}:admission}:total`;
    // Earlier tests' connections are released (asynchronously) once closed.
    await waitUntil(async () => Number((await admin.get(total)) ?? 0) === 0, { what: 'no connection counted' });
    const attempts = await Promise.all(
      Array.from({ length: 2 * MAX }, async (_, i) => {
        const client = await TestClient.connect(herald.edges[i % 2]!.wsUrl, { token: clientToken({ sub: `rc-user-${i}` }) });
        clients.push(client);
        return client.next(() => true, 20_000);
      }),
    );
    expect(attempts.filter((frame) => frame.type === 'connected')).toHaveLength(MAX);
    expect(attempts.filter((frame) => frame.error?.type === '/problems/reach-maximum-connections')).toHaveLength(MAX);
    expect(Number(await admin.get(total))).toBe(MAX);
  });
});
