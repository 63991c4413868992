/**
 * MAX_CONNECTIONS held exactly by three edge processes: 600 concurrent connection
 * attempts spread over the nodes admit exactly 300, the others get the
 * reach-maximum-connections frame and close 1013. When a node is killed (SIGKILL, no
 * cleanup), the cluster counter heals within two lease periods.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, stopAllProcesses, waitUntil, type Cluster } from '../support/cluster.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';

const MAX = 300;
const ATTEMPTS = 600;
const LEASE_MS = 3_000;

let redis: RedisServer;
let admin: Redis;
let cluster: Cluster;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
  cluster = await startCluster({
    redis,
    label: 'limit',
    edges: 3,
    edgeEnv: { MAX_CONNECTIONS: String(MAX), ADMISSION_LEASE_PERIOD: `${LEASE_MS}ms` },
  });
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  admin?.disconnect();
  await stopAllProcesses();
  await redis?.stop();
});

interface Attempt {
  node: number;
  client: TestClient;
  first: Frame;
}

/** Opens a connection and waits for its first frame: `connected`, or the refusal. */
async function attempt(node: number, index: number): Promise<Attempt> {
  const client = await TestClient.connect(cluster.edges[node]!.wsUrl, { token: clientToken({ sub: `user-${index}` }) });
  clients.push(client);
  const first = await client.next(() => true, 30_000);
  return { node, client, first };
}

const totalKey = () => `{${cluster.prefix}:admission}:total`;
const counted = async () => Number((await admin.get(totalKey())) ?? 0);

describe('cluster-wide MAX_CONNECTIONS', () => {
  it('admits exactly the limit out of concurrent attempts on three nodes, and heals when a node is killed', async () => {
    const attempts = await Promise.all(Array.from({ length: ATTEMPTS }, (_, i) => attempt(i % 3, i)));
    const admitted = attempts.filter((a) => a.first.type === 'connected');
    const refused = attempts.filter((a) => a.first.type !== 'connected');
    expect(admitted).toHaveLength(MAX);
    expect(refused).toHaveLength(ATTEMPTS - MAX);
    for (const { first } of refused) {
      expect(first).toEqual({
        type: 'error',
        error: { type: '/problems/reach-maximum-connections', message: 'Maximum number of connections reached' },
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
    }
    const closes = await Promise.all(refused.map((a) => a.client.closed));
    expect(new Set(closes.map((close) => close.code))).toEqual(new Set([1013]));
    // Every node took part, and the counter holds exactly the live connections.
    const perNode = [0, 1, 2].map((node) => admitted.filter((a) => a.node === node).length);
    expect(perNode.every((n) => n > 0)).toBe(true);
    expect(await counted()).toBe(MAX);
    // The admitted ones work.
    await Promise.all(admitted.slice(0, 30).map((a) => a.client.sync()));

    // Full: one more is refused on any node.
    const extra = await attempt(1, ATTEMPTS);
    expect(extra.first.error?.type).toBe('/problems/reach-maximum-connections');
    expect((await extra.client.closed).code).toBe(1013);

    // SIGKILL node 0: no drain, no release. Its clients see the TCP connection die.
    const victim = cluster.edges[0]!;
    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    const dead = admitted.filter((a) => a.node === 0);
    expect(new Set((await Promise.all(dead.map((a) => a.client.closed))).map((close) => close.code))).toEqual(new Set([1006]));
    const live = MAX - dead.length;
    // The counter still holds the dead node's share until its lease expires.
    expect(await counted()).toBe(MAX);
    await waitUntil(async () => (await counted()) === live, { timeoutMs: 4 * LEASE_MS, what: `the counter back to ${live}` });
    expect(Date.now() - killedAt).toBeLessThan(2 * LEASE_MS);

    // Admitting new connections shows the same: exactly the dead node's places are free.
    const again = await Promise.all(Array.from({ length: dead.length + 20 }, (_, i) => attempt(1 + (i % 2), ATTEMPTS + 1 + i)));
    expect(again.filter((a) => a.first.type === 'connected')).toHaveLength(dead.length);
    expect(again.filter((a) => a.first.error?.type === '/problems/reach-maximum-connections')).toHaveLength(20);
    expect(await counted()).toBe(MAX);

    // SIGTERM node 1: it drains (1001) and releases its share itself, before it exits.
    const leaving = [...admitted, ...again].filter((a) => a.node === 1 && a.first.type === 'connected');
    const exit = await cluster.edges[1]!.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(new Set((await Promise.all(leaving.map((a) => a.client.closed))).map((close) => close.code))).toEqual(new Set([1001]));
    expect(await counted()).toBe(MAX - leaving.length);
  }, 120_000);
});
