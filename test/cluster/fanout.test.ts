/**
 * Three edges and two ingest processes on one Redis: a subscriber on every edge gets
 * every event published through either ingest, concurrently, exactly once and in seq
 * order, and every subscriber sees the same order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, stopAllProcesses, inPool, expectOrderedOnce, nodeIdOf, type Cluster } from '../support/cluster.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const EVENTS = 300;

let redis: RedisServer;
let cluster: Cluster;

beforeAll(async () => {
  redis = await startRedis();
  cluster = await startCluster({ redis, label: 'fanout', edges: 3, ingests: 2 });
});

afterAll(async () => {
  await stopAllProcesses();
  await redis?.stop();
});

describe('fan-out across nodes', () => {
  it('delivers every event from either ingest to a subscriber on each edge, once, in seq order', async () => {
    const merchant = `m_fan_${process.pid}_${Date.now().toString(36)}`;
    const channel = `merchant:${merchant}`;
    const clients = await Promise.all(cluster.edges.map((edge) => TestClient.open(edge.wsUrl, { token: clientToken({ sub: 'fan', channels: [channel] }) })));
    // Each client is on its own node.
    expect(new Set(clients.map((client) => client.frames[0]!.data.node)).size).toBe(3);
    expect(clients.map((client) => client.frames[0]!.data.node)).toEqual(cluster.edges.map(nodeIdOf));
    for (const client of clients) expect(await client.subscribe(channel)).toMatchObject({ type: 'subscribed', data: { channel, recovered: false, missed: 0 } });

    const events = Array.from({ length: EVENTS }, () => paymentCreated(merchant));
    // Concurrently, alternating between the two ingest processes.
    const answers = await inPool(EVENTS, 50, (i) => publish(cluster.ingests[i % 2]!.url, events[i]));
    expect(answers.map((answer) => answer.status)).toEqual(Array(EVENTS).fill(202));
    expect(answers.every((answer) => answer.body.duplicate === false && answer.body.channels.includes(channel))).toBe(true);

    const published = new Set(events.map((event) => event.id as string));
    const orders: string[][] = [];
    for (const client of clients) {
      const received = await client.waitForEvents(EVENTS, channel, 20_000);
      await client.sync();
      const all = client.events(channel);
      expect(all).toHaveLength(EVENTS);
      expectOrderedOnce(all);
      expect(new Set(all.map((event) => event.id))).toEqual(published);
      expect(received.every((event) => event.type === 'payment.created' && event.data.merchant_id === merchant)).toBe(true);
      expect(client.errors()).toEqual([]);
      orders.push(all.map((event) => `${event.seq} ${event.id}`));
    }
    // One order for the whole cluster: the same seq for the same event on every node.
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    await Promise.all(clients.map((client) => client.close()));
  }, 120_000);
});
