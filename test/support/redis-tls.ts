/**
 * Real `redis-server` processes that speak TLS only (`--port 0 --tls-port <port>`), for
 * the Redis-over-TLS tests (PROTOCOL.md section 12): one Redis, or a Redis Cluster whose
 * nodes also talk TLS to each other (`--tls-cluster yes --tls-replication yes`).
 *
 *   const pki = await createRedisPki();              // pki.caFile, pki.otherCaFile
 *   const redis = await startTlsRedis(pki);          // redis.url is rediss://127.0.0.1:<port>
 *   const cluster = await startTlsRedisCluster(pki); // cluster.env for REDIS_CLUSTER_NODES
 *   const client = tlsClient(pki, redis);            // an ioredis client trusting the test CA
 *
 * Processes are started and tracked by test/support/redis.ts (killed by PID when the
 * worker exits, reaped by the global setup); certificates come from the test CA of
 * test/tls/pki.ts. Clients need no certificate (`--tls-auth-clients no`): the tests are
 * about Herald checking the server, not the server checking Herald.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createCa, tempDir } from '../tls/pki.js';
import { REDIS_HOST, startRedis, type RedisServer } from './redis.js';

export interface RedisPki {
  readonly dir: string;
  /** The CA that signed the servers' certificate: REDIS_TLS_CA_FILE. */
  readonly caFile: string;
  readonly ca: string;
  /** A CA that signed nothing here: a client trusting it refuses the servers. */
  readonly otherCaFile: string;
  /** Server certificate for localhost and 127.0.0.1, and its key. */
  readonly certFile: string;
  readonly keyFile: string;
  remove(): void;
}

/** A test CA, a server certificate it signs, and an unrelated CA. */
export async function createRedisPki(): Promise<RedisPki> {
  const ca = await createCa('Herald Redis Test CA');
  const other = await createCa('Herald Unrelated CA');
  // Cluster nodes present it to each other on the bus: a client certificate too.
  const leaf = await ca.issue('localhost', { clientAuth: true });
  const dir = tempDir('redis-pki');
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return {
    dir,
    caFile: write('ca.pem', ca.cert),
    ca: ca.cert,
    otherCaFile: write('other-ca.pem', other.cert),
    certFile: write('redis.pem', leaf.cert),
    keyFile: write('redis-key.pem', leaf.key),
    remove() {
      for (const path of [dir, ca.dir, other.dir]) rmSync(path, { recursive: true, force: true });
    },
  };
}

/** A TLS-only redis-server: a RedisServer whose url is `rediss://`. */
export interface TlsRedisServer extends RedisServer {
  readonly plain: RedisServer;
}

export interface TlsRedisCluster {
  readonly nodes: readonly RedisServer[];
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>;
  /** `127.0.0.1:p1,...`: REDIS_CLUSTER_NODES (with REDIS_TLS=true). */
  readonly env: string;
  stop(): Promise<void>;
}

function tlsArgs(pki: RedisPki, port: number): string[] {
  return [
    // No plaintext listener at all: a client that forgot TLS cannot get through.
    '--port', '0',
    '--tls-port', String(port),
    '--tls-cert-file', pki.certFile,
    '--tls-key-file', pki.keyFile,
    '--tls-ca-cert-file', pki.caFile,
    '--tls-auth-clients', 'no',
  ];
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, REDIS_HOST, () => server.close(() => resolve(true)));
  });
}

/** A free port (and its cluster bus port, +10000, for cluster nodes). */
async function freePort(cluster: boolean): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await portIsFree(port)) && (!cluster || (await portIsFree(port + 10_000)))) return port;
  }
  throw new Error('no free port found for a TLS redis-server');
}

async function launch(pki: RedisPki, cluster: boolean, extra: readonly string[] = []): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(cluster);
    try {
      // redis.ts puts `--port <port>` first; the later `--port 0` wins, the TLS port is `port`.
      return await startRedis({ port, cluster, args: [...tlsArgs(pki, port), ...extra] });
    } catch (error) {
      // Another process may have taken the port between the check and the bind.
      if (attempt >= 5 || !String(error).includes('Address already in use')) throw error;
    }
  }
}

/** Starts one TLS-only redis-server. */
export async function startTlsRedis(pki: RedisPki): Promise<TlsRedisServer> {
  const plain = await launch(pki, false);
  return {
    plain,
    get host() {
      return plain.host;
    },
    get port() {
      return plain.port;
    },
    get url() {
      return `rediss://${plain.host}:${plain.port}`;
    },
    get pid() {
      return plain.pid;
    },
    get dir() {
      return plain.dir;
    },
    get running() {
      return plain.running;
    },
    get logs() {
      return plain.logs;
    },
    stop: () => plain.stop(),
    kill: () => plain.kill(),
    restart: () => plain.restart(),
  };
}

/**
 * Starts `masters` TLS cluster nodes (the cluster bus and replication on TLS too),
 * joins them with `redis-cli --tls --cluster create`, and waits for cluster_state:ok
 * on every node.
 */
export async function startTlsRedisCluster(pki: RedisPki, masters = 3, timeoutMs = 30_000): Promise<TlsRedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) nodes.push(await launch(pki, true, ['--tls-cluster', 'yes', '--tls-replication', 'yes']));
    const addresses = nodes.map((node) => `${node.host}:${node.port}`);
    await run('redis-cli', ['--tls', '--cacert', pki.caFile, '--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], 60_000);
    await waitForClusterOk(pki, nodes, timeoutMs);
    return {
      nodes,
      startupNodes: nodes.map((node) => ({ host: node.host, port: node.port })),
      env: addresses.join(','),
      stop: async () => {
        await Promise.all(nodes.map((node) => node.stop()));
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill()));
    throw error;
  }
}

/** An ioredis client to one TLS node, trusting the test CA (for test set-up and checks). */
export function tlsClient(pki: RedisPki, server: Pick<RedisServer, 'host' | 'port'>): Redis {
  const client = new Redis({ host: server.host, port: server.port, tls: { ca: pki.ca }, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  return client;
}

/**
 * Polls CLUSTER INFO on every node: nodes agree on the slot map through gossip, and
 * nothing announces it, so this is one of the few places a test has to poll.
 */
async function waitForClusterOk(pki: RedisPki, nodes: readonly RedisServer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const clients = nodes.map((node) => tlsClient(pki, node));
  try {
    for (;;) {
      const states = await Promise.all(clients.map((client) => client.cluster('INFO').then((info) => /cluster_state:ok/.test(String(info)), () => false)));
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`TLS Redis Cluster not ok after ${timeoutMs} ms (${states.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
