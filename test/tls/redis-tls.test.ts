/**
 * PROTOCOL.md section 12, Redis over TLS: edge and ingest processes reach a TLS-only
 * redis-server (`--port 0`: there is no plaintext port to fall back to) with a
 * `rediss://` REDIS_URL and REDIS_TLS_CA_FILE, and a 3-master Redis Cluster whose nodes
 * also gossip and replicate over TLS with REDIS_TLS=true. A server certificate from
 * another CA is refused with a log line and a start-up failure that say why; a bad
 * REDIS_TLS_CA_FILE, or TLS settings for a plaintext URL, stop the start (exit 78).
 */
import { keySlot } from '@herald/broker/redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, startCluster, stopAllProcesses, waitForEventId } from '../support/cluster.js';
import { TEST_SECRET, runHerald } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { createRedisPki, startTlsRedis, startTlsRedisCluster, tlsClient, type RedisPki, type TlsRedisCluster, type TlsRedisServer } from '../support/redis-tls.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

let pki: RedisPki;
let redis: TlsRedisServer;
let admin: Redis;
const clients: TestClient[] = [];

beforeAll(async () => {
  pki = await createRedisPki();
  redis = await startTlsRedis(pki);
  admin = tlsClient(pki, redis);
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  admin?.disconnect();
  await stopAllProcesses();
  await redis?.stop();
  pki?.remove();
});

function unique(label: string): string {
  return `m_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}

async function subscriber(wsUrl: string, channels: string[]): Promise<TestClient> {
  const client = await TestClient.open(wsUrl, { token: clientToken({ sub: 'redis-tls', channels }) });
  clients.push(client);
  for (const channel of channels) expect((await client.subscribe(channel)).type).toBe('subscribed');
  return client;
}

describe('one Redis over TLS (rediss://)', () => {
  it('carries events from the HTTP API and from the ingest stream to a WebSocket subscriber', async () => {
    const herald = await startCluster({ redis, label: 'rtls', edges: 1, ingests: 1, env: { REDIS_TLS_CA_FILE: pki.caFile } });
    expect(herald.env.REDIS_URL).toMatch(/^rediss:\/\//);
    const connection = await herald.edges[0]!.waitForLog((record) => record.msg === 'redis connection');
    expect(connection).toMatchObject({ redis: 'standalone', tls: true, caFile: pki.caFile });

    const merchant = unique('rtls');
    const channel = `merchant:${merchant}`;
    const client = await subscriber(herald.edges[0]!.wsUrl, [channel]);

    const viaHttp = paymentCreated(merchant);
    expect((await publish(herald.ingests[0]!.url, viaHttp)).status).toBe(202);
    await waitForEventId(client, channel, viaHttp.id as string);

    // The stream consumer's own (blocking) client is on TLS too.
    const viaStream = paymentCreated(merchant);
    await admin.xadd(`${herald.prefix}:ingest`, '*', 'event', JSON.stringify(viaStream));
    await waitForEventId(client, channel, viaStream.id as string);

    // Every Herald connection the server sees came in on its TLS port (it has no other).
    const names = String(await admin.client('LIST')).split('\n').map((line: string) => /name=(\S*)/.exec(line)?.[1] ?? '');
    expect(names.filter((name) => name.startsWith('rtls-')).length).toBeGreaterThanOrEqual(4);
    await herald.stop();
  });

  it('refuses a server certificate its CA file does not vouch for, and says so', async () => {
    const env = { JWT_SECRET: TEST_SECRET, REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix('rtls-bad') };
    // The ingest trusts an unrelated CA; the edge the public CAs only (no REDIS_TLS_CA_FILE).
    // Both give up after the broker's start timeout, never having listened.
    const [ingest, edge] = await Promise.all([runHerald(['ingest'], { ...env, REDIS_TLS_CA_FILE: pki.otherCaFile }, 45_000), runHerald(['edge'], env, 45_000)]);
    for (const result of [ingest, edge]) {
      const records = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
      const errors = records.filter((record) => record.msg === 'Redis client error');
      expect(errors.length, result.stdout).toBeGreaterThan(0);
      expect(JSON.stringify(errors[0]!.err)).toMatch(/certificate/i);
      expect(records.some((record) => record.msg === 'herald listening')).toBe(false);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr.trim()).toMatch(/^herald: cannot reach the broker: .*last error: .*certificate/i);
    }
  }, 60_000);
});

describe('REDIS_TLS_CA_FILE at start', () => {
  async function refused(mode: string, env: Record<string, string>): Promise<string> {
    const result = await runHerald([mode], { JWT_SECRET: TEST_SECRET, ...env });
    expect(result.code, result.stderr).toBe(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    return lines[0]!;
  }

  it('stops on a missing file, a file that is not a PEM certificate, or a plaintext URL', async () => {
    const url = redis.url;
    expect(await refused('ingest', { REDIS_URL: url, REDIS_TLS_CA_FILE: `${pki.dir}/missing.pem` })).toMatch(/^herald: invalid configuration: REDIS_TLS_CA_FILE: cannot read ".*missing\.pem": no such file$/);
    expect(await refused('edge', { REDIS_URL: url, REDIS_TLS_CA_FILE: pki.keyFile })).toMatch(/^herald: invalid configuration: REDIS_TLS_CA_FILE: ".*" is not a PEM certificate file/);
    // EDGE_WORKERS: the primary refuses what every worker would.
    expect(await refused('edge', { REDIS_URL: url, REDIS_TLS_CA_FILE: pki.dir, EDGE_WORKERS: '2' })).toMatch(/^herald: invalid configuration: REDIS_TLS_CA_FILE: cannot read .*a directory/);
    expect(await refused('ingest', { REDIS_URL: `redis://127.0.0.1:${redis.port}`, REDIS_TLS_CA_FILE: pki.caFile })).toMatch(/^herald: invalid configuration: REDIS_TLS_CA_FILE is set but Redis is reached in plaintext/);
    expect(await refused('edge', { REDIS_CLUSTER_NODES: `127.0.0.1:${redis.port}`, REDIS_TLS_CA_FILE: pki.caFile })).toMatch(/REDIS_TLS=true with REDIS_CLUSTER_NODES/);
  });
});

describe('a Redis Cluster over TLS (REDIS_TLS=true)', () => {
  let cluster: TlsRedisCluster | undefined;
  afterAll(async () => {
    await stopAllProcesses();
    await cluster?.stop();
  });

  it('delivers events of channels on all three masters', async () => {
    cluster = await startTlsRedisCluster(pki, 3);
    const herald = await startCluster({ redis: cluster, label: 'rtlsc', edges: 1, ingests: 1, env: { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: pki.caFile } });
    expect(await herald.edges[0]!.waitForLog((record) => record.msg === 'redis connection')).toMatchObject({ redis: 'cluster', tls: true });

    // One channel per master: slots were split in three equal ranges by `--cluster create`.
    const node = tlsClient(pki, cluster.nodes[0]!);
    const ranges = (await node.cluster('SLOTS')) as Array<[number, number, ...unknown[]]>;
    node.disconnect();
    expect(ranges).toHaveLength(3);
    const merchants: string[] = [];
    for (const [from, to] of ranges) {
      for (;;) {
        const merchant = unique('rtlsc');
        const slot = keySlot(`{merchant:${merchant}}`);
        if (slot >= from && slot <= to) {
          merchants.push(merchant);
          break;
        }
      }
    }
    const channels = merchants.map((merchant) => `merchant:${merchant}`);
    const client = await subscriber(herald.edges[0]!.wsUrl, channels);
    const events = merchants.map((merchant) => paymentCreated(merchant));
    const answers = await Promise.all(events.map((event) => publish(herald.ingests[0]!.url, event)));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202]);
    await Promise.all(events.map((event, i) => waitForEventId(client, channels[i]!, event.id as string)));
    await herald.stop();
  });
});
