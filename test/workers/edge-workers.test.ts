/**
 * EDGE_WORKERS: one `herald edge` of several processes on one port (node:cluster), on a
 * real Redis. Connections spread over the workers, each worker is its own node (its own
 * admission share and broker subscriber), one /metrics shows them all, /readyz speaks
 * for all of them, a crashed worker is restarted, and SIGTERM drains every worker at once.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHerald, startHerald, waitUntilReady, type HeraldProcess } from '../support/herald.js';
import { httpGet, metricValue } from '../support/http.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { keyPrefix } from '../support/cluster.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const NODE = `edge-w-${process.pid}`;
const WORKERS = [`${NODE}-1`, `${NODE}-2`];
const CLIENTS = 40;

let redis: RedisServer;
let edge: HeraldProcess;
let ingest: HeraldProcess;
const clients: TestClient[] = [];

function workerPids(primary: number): number[] {
  return readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
}

async function waitFor(predicate: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  redis = await startRedis();
  const shared = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix('workers') };
  edge = await startHerald({ mode: 'edge', env: { ...shared, NODE_ID: NODE, EDGE_WORKERS: '2', SHUTDOWN_DRAIN_PERIOD: '1s', MAX_CONNECTIONS: '1000' } });
  for (const node of WORKERS) await edge.waitForLog((record) => record.msg === 'herald listening' && record.node === node);
  await waitUntilReady(edge.url);
  ingest = await startHerald({ mode: 'ingest', env: { ...shared, INGEST_STREAM_ENABLED: 'false' }, waitReady: true });
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await edge?.stop('SIGKILL');
  await ingest?.stop();
  await redis?.stop();
});

describe('EDGE_WORKERS=2', () => {
  it('serves connections from both workers, each a node of its own', async () => {
    // The workers accept from the shared socket and the kernel picks one per connection:
    // open connections in waves until both have served some (bounded).
    const open = (i: number) => TestClient.open(edge.wsUrl, { token: clientToken({ sub: `u${i}`, channels: ['merchant:*'] }) });
    for (let wave = 0; wave < 20; wave++) {
      clients.push(...(await Promise.all(Array.from({ length: CLIENTS / 4 }, (_, i) => open(wave * 100 + i)))));
      const seen = new Set(clients.map((client) => client.frames[0]!.data.node as string));
      if (clients.length >= CLIENTS && WORKERS.every((node) => seen.has(node))) break;
    }
    const nodes = clients.map((client) => client.frames[0]!.data.node as string);
    expect(new Set(nodes)).toEqual(new Set(WORKERS));
  });

  it('answers /metrics with every worker\'s series, whichever worker the scrape lands on', async () => {
    for (let scrape = 0; scrape < 4; scrape++) {
      const counts = await Promise.all(WORKERS.map((node) => metricValue(edge.url, 'herald_edge_connections', { node })));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(clients.length);
      for (const count of counts) expect(count).toBeGreaterThan(0);
    }
  });

  it('delivers an event to the subscribers of both workers', async () => {
    const merchant = `m_w_${process.pid}`;
    for (const client of clients) expect((await client.subscribe(`merchant:${merchant}`)).type).toBe('subscribed');
    const event = paymentCreated(merchant);
    expect((await publish(ingest.url, event)).status).toBe(202);
    await Promise.all(clients.map((client) => client.waitForEvents(1, `merchant:${merchant}`)));
  });

  it('restarts a crashed worker; /readyz is 503 until it is back, the other worker keeps its clients', async () => {
    const [victim] = workerPids(edge.pid);
    const listeningBefore = edge.stdout.filter((line) => line.includes('"herald listening"')).length;
    process.kill(victim!, 'SIGKILL');
    // A keep-alive connection to the killed worker resets: that answer does not count.
    await waitFor(async () => (await httpGet(`${edge.url}/readyz`).catch(() => ({ status: 0 }))).status === 503, '/readyz 503');
    const closed = await Promise.race(clients.map((client) => client.closed));
    expect(closed.code).toBe(1006);
    await waitFor(async () => edge.stdout.filter((line) => line.includes('"herald listening"')).length > listeningBefore, 'the replacement listening');
    await waitUntilReady(edge.url);
    expect(workerPids(edge.pid)).toHaveLength(2);
    expect(workerPids(edge.pid)).not.toContain(victim);
    const alive = clients.filter((client) => client.socket.readyState === client.socket.OPEN);
    expect(alive.length).toBeGreaterThan(0);
    for (const client of alive) expect((await client.request('ping')).type).toBe('pong');
    // A fresh connection is served again, by either worker.
    clients.push(await TestClient.open(edge.wsUrl, { token: clientToken({ channels: ['merchant:*'] }) }));
  });

  it('SIGTERM drains every worker at once: 503 at once, every client closed 1001, exit 0', async () => {
    const open = clients.filter((client) => client.socket.readyState === client.socket.OPEN);
    const started = Date.now();
    edge.child.kill('SIGTERM');
    await waitFor(async () => (await httpGet(`${edge.url}/readyz`).catch(() => ({ status: 0 }))).status !== 200, '/readyz not 200');
    const codes = await Promise.all(open.map((client) => client.closed.then((closed) => closed.code)));
    expect(new Set(codes)).toEqual(new Set([1001]));
    const exit = await edge.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // Both drained over the same 1 s period, not one after the other.
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});

describe('EDGE_WORKERS configuration', () => {
  it('is refused with `herald start` (the in-memory broker cannot be shared), exit 78 naming it', async () => {
    const result = await runHerald(['start'], { EDGE_WORKERS: '2' });
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('EDGE_WORKERS');
  });

  it.each(['0', 'many', '65'])('EDGE_WORKERS=%s: exit 78 naming it', async (value) => {
    const result = await runHerald(['edge'], { EDGE_WORKERS: value, REDIS_URL: redis.url, JWT_SECRET: 'x'.repeat(32) });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/^herald: invalid configuration: EDGE_WORKERS must be an integer from 1 to 64, or "auto"/);
  });

  it('a setting every worker would refuse stops the primary at once, before any worker starts', async () => {
    const result = await runHerald(['edge'], { EDGE_WORKERS: '2', REDIS_URL: redis.url });
    expect(result.code).toBe(78);
    expect(result.stderr.trim()).toBe('herald: invalid configuration: JWT_SECRET or JWT_PUBLIC_KEY is required to verify client tokens');
  });
});
