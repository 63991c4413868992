/**
 * RedisAdmission against a real redis-server: several instances stand for several
 * edge nodes sharing one counter. Each test has a key prefix of its own; the outage
 * tests have a Redis of their own (they kill it).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { AdmissionLimits, AdmissionResult } from '@herald/admission';
import { RedisAdmission } from '@herald/admission/redis';
import { startRedis, uniquePrefix, type RedisServer } from '../support/redis.js';
import { waitUntil } from '../support/cluster.js';

const LEASE_MS = 3_000;

/** Clients made like `herald edge` makes its admission client: fail fast, reconnect quickly. */
function edgeClient(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 4), 500),
  });
  client.on('error', () => undefined);
  return client;
}

interface Node {
  admission: RedisAdmission;
  client: Redis;
  nodeId: string;
  warnings: string[];
}

const nodes: Node[] = [];
let nodeCounter = 0;

afterEach(async () => {
  await Promise.all(
    nodes.splice(0).map(async (node) => {
      await node.admission.stop();
      node.client.disconnect();
    }),
  );
});

async function startNode(
  redis: RedisServer,
  keyPrefix: string,
  limits: Partial<AdmissionLimits>,
  options: { leaseMs?: number; fallbackPerNode?: number | null } = {},
): Promise<Node> {
  const client = edgeClient(redis.url);
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  const nodeId = `node-${++nodeCounter}`;
  const warnings: string[] = [];
  const admission = new RedisAdmission({
    client,
    keyPrefix,
    nodeId,
    limits: { maxConnections: null, maxConnectionsPerUser: null, ...limits },
    leaseMs: options.leaseMs ?? LEASE_MS,
    fallbackPerNode: options.fallbackPerNode ?? null,
    logger: { info() {}, warn: (_object, message) => void warnings.push(message) },
  });
  await admission.start();
  const node = { admission, client, nodeId, warnings };
  nodes.push(node);
  return node;
}

const admitted = (results: AdmissionResult[]) => results.filter((result) => result.admitted).length;

/** Releases are batched on the next turn of the event loop; after this they are sent. */
const flushed = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What Redis holds for a prefix: the total, the per-user hash and each node's share. */
async function stored(admin: Redis, keyPrefix: string) {
  const tag = `{${keyPrefix}:admission}`;
  const [total, users, members] = await Promise.all([admin.get(`${tag}:total`), admin.hgetall(`${tag}:users`), admin.zrange(`${tag}:nodes`, 0, -1)]);
  const shares: Record<string, Record<string, string>> = {};
  for (const member of members) shares[member] = await admin.hgetall(`${tag}:node:${member}`);
  return { total: Number(total ?? 0), users: Object.fromEntries(Object.entries(users).map(([user, n]) => [user, Number(n)])), nodes: members.sort(), shares };
}

describe('RedisAdmission on one Redis', () => {
  let redis: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  it('admits exactly MAX_CONNECTIONS under concurrent acquires from four nodes', async () => {
    const keyPrefix = uniquePrefix('adm-exact');
    const group = await Promise.all([0, 1, 2, 3].map(() => startNode(redis, keyPrefix, { maxConnections: 50 })));
    // 4 x 40 attempts at once, interleaved over the four connections.
    const attempts = group.flatMap((node) => Array.from({ length: 40 }, (_, i) => node.admission.acquire(`user-${i % 7}`)));
    const results = await Promise.all(attempts);
    expect(admitted(results)).toBe(50);
    expect(results.filter((result) => !result.admitted).every((result) => !result.admitted && result.reason === 'global-limit')).toBe(true);
    expect(await group[0]!.admission.count()).toBe(50);

    const state = await stored(admin, keyPrefix);
    expect(state.total).toBe(50);
    expect(state.nodes).toEqual(group.map((node) => node.nodeId).sort());
    // Each node's share is what it admitted; the per-user hash adds up to the total.
    const perNode = group.map((_, n) => admitted(results.slice(n * 40, n * 40 + 40)));
    expect(group.map((node) => Number(state.shares[node.nodeId]?.total ?? 0))).toEqual(perNode);
    expect(Object.values(state.users).reduce((a, b) => a + b, 0)).toBe(50);
    // Every node reads every live node's share (what rebalancing compares itself with).
    const counts = await group[1]!.admission.nodeCounts();
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(group.map((node, n) => [node.nodeId, perNode[n]])));

    // Full: one more is refused, and a refusal is never counted.
    expect(await group[3]!.admission.acquire('late')).toEqual({ admitted: false, reason: 'global-limit' });
    expect((await stored(admin, keyPrefix)).total).toBe(50);
  });

  it('limits connections per user across nodes, and not tokens without sub', async () => {
    const keyPrefix = uniquePrefix('adm-user');
    const group = await Promise.all([0, 1, 2].map(() => startNode(redis, keyPrefix, { maxConnections: 100, maxConnectionsPerUser: 3 })));
    const forUser = (user: string) => Promise.all(group.flatMap((node) => Array.from({ length: 6 }, () => node.admission.acquire(user))));
    const [alice, bob, anonymous] = await Promise.all([forUser('alice'), forUser('bob'), forUser('')]);
    expect(admitted(alice)).toBe(3);
    expect(admitted(bob)).toBe(3);
    expect(alice.filter((result) => !result.admitted)).toEqual(Array(15).fill({ admitted: false, reason: 'user-limit' }));
    expect(admitted(anonymous)).toBe(18);
    const state = await stored(admin, keyPrefix);
    expect(state.total).toBe(24);
    expect(state.users).toEqual({ alice: 3, bob: 3 });

    // The global limit still applies on top: 100 - 24 more, whoever asks.
    const rest = await Promise.all(Array.from({ length: 90 }, (_, i) => group[i % 3]!.admission.acquire(`u${i}`)));
    expect(admitted(rest)).toBe(76);
    expect(rest.filter((result) => !result.admitted)).toEqual(Array(14).fill({ admitted: false, reason: 'global-limit' }));
  });

  it('gives released connections back to every node, users included', async () => {
    const keyPrefix = uniquePrefix('adm-release');
    const [a, b] = await Promise.all([startNode(redis, keyPrefix, { maxConnections: 10, maxConnectionsPerUser: 4 }), startNode(redis, keyPrefix, { maxConnections: 10, maxConnectionsPerUser: 4 })]);
    expect(admitted(await Promise.all(Array.from({ length: 4 }, () => a.admission.acquire('alice'))))).toBe(4);
    expect(admitted(await Promise.all(Array.from({ length: 8 }, () => a.admission.acquire('bob'))))).toBe(4);
    expect(admitted(await Promise.all(Array.from({ length: 5 }, () => b.admission.acquire('carol'))))).toBe(2);
    expect(await b.admission.acquire('alice')).toEqual({ admitted: false, reason: 'global-limit' });

    a.admission.release('alice');
    a.admission.release('alice');
    a.admission.release('bob');
    await flushed();
    expect(await a.admission.count()).toBe(7);
    expect(await stored(admin, keyPrefix)).toMatchObject({ total: 7, users: { alice: 2, bob: 3, carol: 2 } });
    // Node b may now take exactly the three freed places, alice up to her limit.
    const again = await Promise.all([b.admission.acquire('alice'), b.admission.acquire('alice'), b.admission.acquire('alice'), b.admission.acquire('dave'), b.admission.acquire('erin')]);
    expect(again.map((result) => result.admitted)).toEqual([true, true, false, true, false]);
    expect(await stored(admin, keyPrefix)).toMatchObject({ total: 10, users: { alice: 4, bob: 3, carol: 2, dave: 1 } });
  });

  it('stop() releases the node\'s whole share at once', async () => {
    const keyPrefix = uniquePrefix('adm-stop');
    const [a, b] = await Promise.all([startNode(redis, keyPrefix, { maxConnections: 8 }), startNode(redis, keyPrefix, { maxConnections: 8 })]);
    expect(admitted(await Promise.all(Array.from({ length: 5 }, (_, i) => a.admission.acquire(`a${i % 2}`))))).toBe(5);
    expect(admitted(await Promise.all(Array.from({ length: 3 }, () => b.admission.acquire('b'))))).toBe(3);

    await a.admission.stop();
    const state = await stored(admin, keyPrefix);
    expect(state).toMatchObject({ total: 3, users: { b: 3 }, nodes: [b.nodeId] });
    expect(await admin.exists(`{${keyPrefix}:admission}:node:${a.nodeId}`)).toBe(0);
    expect(admitted(await Promise.all(Array.from({ length: 7 }, () => b.admission.acquire('b'))))).toBe(5);
  });

  it('reaps a node that stops renewing within two lease periods', async () => {
    const keyPrefix = uniquePrefix('adm-reap');
    const [alive, dying] = await Promise.all([startNode(redis, keyPrefix, { maxConnections: 20 }), startNode(redis, keyPrefix, { maxConnections: 20 })]);
    expect(admitted(await Promise.all(Array.from({ length: 6 }, () => dying.admission.acquire('d'))))).toBe(6);
    expect(admitted(await Promise.all(Array.from({ length: 2 }, () => alive.admission.acquire('a'))))).toBe(2);
    expect((await stored(admin, keyPrefix)).total).toBe(8);

    // The dying node loses Redis for good (a crash or a partition): it can no longer renew.
    const lostAt = Date.now();
    dying.client.disconnect();
    await waitUntil(async () => (await stored(admin, keyPrefix)).total === 2, { timeoutMs: 4 * LEASE_MS, what: 'the dead node reaped' });
    const healedAfter = Date.now() - lostAt;
    expect(healedAfter).toBeLessThan(2 * LEASE_MS);
    expect(await stored(admin, keyPrefix)).toMatchObject({ total: 2, users: { a: 2 }, nodes: [alive.nodeId] });
    // Its places are free again.
    expect(admitted(await Promise.all(Array.from({ length: 20 }, () => alive.admission.acquire('a'))))).toBe(18);
  });

  it('a node reaped while alive (lease lapsed) restores its exact share on its next acquire', async () => {
    const keyPrefix = uniquePrefix('adm-lapse');
    // Long leases: no renewal tick happens during the test, only what the test does.
    const [a, b] = await Promise.all([
      startNode(redis, keyPrefix, { maxConnections: 10 }, { leaseMs: 60_000 }),
      startNode(redis, keyPrefix, { maxConnections: 10 }, { leaseMs: 60_000 }),
    ]);
    expect(admitted(await Promise.all(Array.from({ length: 5 }, () => a.admission.acquire('a'))))).toBe(5);
    // Node a's lease lapses (a long GC pause, a slow network): b's next script reaps it.
    await admin.zadd(`{${keyPrefix}:admission}:nodes`, 1, a.nodeId);
    expect(await b.admission.acquire('b')).toEqual({ admitted: true });
    expect((await stored(admin, keyPrefix)).total).toBe(1);

    // a still holds its 5 connections: its next acquire must put them back, not just 1.
    expect(await a.admission.acquire('a')).toEqual({ admitted: true });
    expect(await stored(admin, keyPrefix)).toMatchObject({ total: 7, users: { a: 6, b: 1 } });
    const rest = await Promise.all(Array.from({ length: 6 }, () => b.admission.acquire('b')));
    expect(admitted(rest)).toBe(3);
    a.admission.release('a');
    await flushed();
    expect(await stored(admin, keyPrefix)).toMatchObject({ total: 9, users: { a: 5, b: 4 } });
  });
});

describe('RedisAdmission while Redis is down', () => {
  let redis: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  async function adminClient(): Promise<Redis> {
    admin?.disconnect();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => undefined);
    return admin;
  }

  it('admits alone up to the fallback cap, then resyncs the exact shares when Redis is back', async () => {
    const keyPrefix = uniquePrefix('adm-down');
    const limits = { maxConnections: 100, maxConnectionsPerUser: 4 };
    const a = await startNode(redis, keyPrefix, limits, { fallbackPerNode: 6 });
    const b = await startNode(redis, keyPrefix, limits, { fallbackPerNode: 6 });
    expect(admitted(await Promise.all([a.admission.acquire('alice'), a.admission.acquire('bob')]))).toBe(2);
    expect(await b.admission.acquire('carol')).toEqual({ admitted: true });
    expect(a.admission.degradedReason()).toBeUndefined();

    await redis.kill();
    // a holds 2 and admits alone up to 6 in all: 4 more, per-user limit applied locally.
    const alone: AdmissionResult[] = [];
    for (const user of ['alice', 'alice', 'alice', 'alice', 'dave', 'erin', 'frank']) alone.push(await a.admission.acquire(user));
    expect(alone.map((result) => result.admitted)).toEqual([true, true, true, false, true, false, false]);
    expect(alone[3]).toEqual({ admitted: false, reason: 'user-limit' });
    expect(alone[5]).toEqual({ admitted: false, reason: 'global-limit' });
    expect(a.admission.fallbackAdmissions).toBe(4);
    expect(a.admission.degradedReason()).toMatch(/admission store unreachable.*admitting up to 6 connections on this node alone/);
    expect(a.warnings).toContain('admission degraded: Redis unreachable');
    // Releases while down: a ends at alice x3, dave; b at nothing.
    a.admission.release('bob');
    a.admission.release('alice');
    b.admission.release('carol');
    expect(await b.admission.acquire('carol')).toEqual({ admitted: true });
    expect(b.admission.fallbackAdmissions).toBe(1);

    // Redis comes back empty (no persistence): both nodes write their exact share back.
    await redis.restart();
    const client = await adminClient();
    await waitUntil(() => a.admission.degradedReason() === undefined && b.admission.degradedReason() === undefined, { timeoutMs: 10_000, what: 'admission back on Redis' });
    await waitUntil(async () => (await stored(client, keyPrefix)).total === 5, { timeoutMs: 5_000, what: 'both shares resynced' });
    const state = await stored(client, keyPrefix);
    expect(state).toMatchObject({ total: 5, users: { alice: 3, dave: 1, carol: 1 }, nodes: [a.nodeId, b.nodeId].sort() });
    expect(state.shares[a.nodeId]).toEqual({ total: '4', 'u:alice': '3', 'u:dave': '1' });
    // Exact again: alice may have one more, anywhere.
    expect((await Promise.all([b.admission.acquire('alice'), a.admission.acquire('alice')])).filter((result) => result.admitted)).toHaveLength(1);
  });

  it('counts connections admitted alone while the resync is in flight', async () => {
    const keyPrefix = uniquePrefix('adm-race');
    const a = await startNode(redis, keyPrefix, { maxConnections: 1000 }, { fallbackPerNode: 1000 });
    expect(await a.admission.acquire('x')).toEqual({ admitted: true });
    const client = await adminClient();
    const id = await a.client.client('ID');
    // Cut the node off (and keep it off: no new connection while maxclients is 1).
    await client.multi().config('SET', 'maxclients', '1').client('KILL', 'ID', String(id)).exec();
    expect(await a.admission.acquire('x')).toEqual({ admitted: true });
    expect(a.admission.degradedReason()).toBeDefined();

    // Scripts wait while writes are paused: the renewal's resync, once the node is back,
    // is held at Redis while the node, still degraded, may keep admitting alone.
    await client.client('PAUSE', 3000, 'WRITE');
    await client.config('SET', 'maxclients', '10000');
    let count = 2;
    while (a.admission.degradedReason() !== undefined) {
      if ((await a.admission.acquire('x')).admitted) count += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(count).toBeGreaterThan(2);
    // The node's share in Redis is every connection it holds, those admitted during the resync too.
    await waitUntil(async () => (await stored(client, keyPrefix)).total === count, { timeoutMs: 3 * LEASE_MS, what: `a total of ${count}` });
    expect(await stored(client, keyPrefix)).toMatchObject({ total: count, users: { x: count } });
  });
});
