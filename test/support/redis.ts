/**
 * Real `redis-server` processes for integration tests: one Redis, or a Redis Cluster of
 * N masters, each on free ports with its own temp dir and no persistence.
 *
 *   const redis = await startRedis();            // redis.url, redis.port, kill(), restart()
 *   const cluster = await startRedisCluster(3);  // cluster.nodes, cluster.startupNodes, cluster.env
 *   const ha = await startRedisCluster(3, { replicas: 1 });  // 3 masters, 3 replicas
 *   await ha.reshard(from, to, 2000);            // redis-cli --cluster reshard, as an operator would
 *   await ha.failover(master);                   // SIGKILL a master, wait for its replica's promotion
 *   const prefix = uniquePrefix('edge');         // a key prefix no other test shares
 *
 * Every process is tracked by PID and killed when the test worker exits, even after a
 * failure; the global setup also kills what a crashed worker left behind. Other tests
 * (Herald processes against Redis) pass `redis.url` as REDIS_URL, or `cluster.env` as
 * REDIS_CLUSTER_NODES.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type Cluster } from 'ioredis';

export const REDIS_HOST = '127.0.0.1';
/** Environment variable naming the dir where the global setup collects PIDs to reap. */
export const PID_DIR_ENV = 'HERALD_TEST_REDIS_PID_DIR';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** The server's own dir (working dir, cluster nodes.conf). */
  readonly dir: string;
  readonly running: boolean;
  /** The server's log lines, for failure messages. */
  readonly logs: readonly string[];
  /** SIGTERM, and resolves when the process has exited. Data is lost (no persistence). */
  stop(): Promise<void>;
  /** SIGKILL, and resolves when the process has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port and dir (a cluster node keeps its identity). */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** A fixed port; by default a free one (with a free cluster bus port for cluster nodes). */
  port?: number;
  /** Start as a cluster node (`cluster-enabled yes`). */
  cluster?: boolean;
  /** Cluster node timeout (default 3000 ms): how soon a dead node marks the cluster failed. */
  clusterNodeTimeoutMs?: number;
  /** Extra `--name value` arguments. */
  args?: readonly string[];
  /** How long to wait for "Ready to accept connections" (default 10 s). */
  timeoutMs?: number;
}

// Tracked processes and dirs, reaped when the worker exits whatever happened.
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function registerPid(pid: number): void {
  const dir = process.env[PID_DIR_ENV];
  if (dir) writeFileSync(join(dir, String(pid)), '');
}

function unregisterPid(pid: number): void {
  const dir = process.env[PID_DIR_ENV];
  if (dir) rmSync(join(dir, String(pid)), { force: true });
}

/**
 * A logger for brokers and the like that prints to the console only when
 * HERALD_TEST_DEBUG is set (to see the timeline of an outage), silent otherwise.
 */
export function debugLogger(): { info: LogFn; warn: LogFn; error: LogFn } | undefined {
  if (!process.env.HERALD_TEST_DEBUG) return undefined;
  const log =
    (level: string): LogFn =>
    (data, message) =>
      console.log(new Date().toISOString(), level, message, JSON.stringify(data, (_key, value: unknown) => (value instanceof Error ? value.message : value)));
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

type LogFn = (data: object, message: string) => void;

let prefixCounter = 0;

/** A key prefix unique to this call, process and run: tests never share keys. */
export function uniquePrefix(label = 't'): string {
  prefixCounter += 1;
  const random = Math.random().toString(36).slice(2, 8);
  return `herald-test:${label}:${process.pid}-${prefixCounter}-${random}`;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, REDIS_HOST, () => server.close(() => resolve(true)));
  });
}

async function freePort(clusterBus: boolean): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // A cluster node also binds port + 10000 (the cluster bus), so stay below 55536.
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await portIsFree(port)) && (!clusterBus || (await portIsFree(port + 10_000)))) return port;
  }
  throw new Error('no free port found for redis-server');
}

class RedisProcess implements RedisServer {
  readonly host = REDIS_HOST;
  readonly logs: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the server and resolves when it accepts connections. */
  async launch(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), ...this.args], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    children.add(child);
    if (child.pid !== undefined) registerPid(child.pid);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        children.delete(child);
        if (child.pid !== undefined) unregisterPid(child.pid);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      let partial = '';
      const fail = (why: string): void => {
        cleanup();
        child.kill('SIGKILL');
        reject(new Error(`redis-server on port ${this.port} ${why}:\n${this.logs.slice(-20).join('\n')}`));
      };
      const onData = (chunk: string): void => {
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          this.logs.push(line);
          if (line.includes('Ready to accept connections')) {
            cleanup();
            resolve();
            return;
          }
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited before ready (code ${code}, signal ${signal})`);
      const onError = (error: Error): void => fail(`could not start: ${error.message}`);
      const timer = setTimeout(() => fail(`not ready after ${this.timeoutMs} ms`), this.timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      child.stdout!.setEncoding('utf8').on('data', onData);
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.logs.push(chunk.trimEnd()));
      child.once('exit', onExit);
      child.once('error', onError);
    });
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.running) await this.kill();
    await this.launch();
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.child!.kill(signal);
    await this.exited;
  }
}

function serverArgs(options: StartRedisOptions): string[] {
  const args = [
    '--bind', REDIS_HOST,
    '--protected-mode', 'no',
    '--daemonize', 'no',
    // No persistence: a restart (or SIGKILL) loses the data, like a crashed cache.
    '--save', '',
    '--appendonly', 'no',
    '--loglevel', 'notice',
    '--logfile', '',
    // Lets fault tests use DEBUG SLEEP and friends from localhost.
    '--enable-debug-command', 'local',
  ];
  if (options.cluster) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
    args.push('--cluster-node-timeout', String(options.clusterNodeTimeoutMs ?? 3_000));
  }
  args.push(...(options.args ?? []));
  return args;
}

/** Starts one redis-server on a free port (or `options.port`). */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const args = serverArgs(options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort(options.cluster ?? false));
    const dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
    dirs.add(dir);
    const server = new RedisProcess(port, dir, args, timeoutMs);
    try {
      await server.launch();
      return server;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
      // Another process may have taken the port between the check and the bind.
      const portTaken = server.logs.some((line) => line.includes('Address already in use'));
      if (options.port !== undefined || !portTaken || attempt >= 5) throw error;
    }
  }
}

export interface RedisClusterHandle {
  readonly nodes: readonly RedisServer[];
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>;
  /** `127.0.0.1:p1,127.0.0.1:p2,...`, the REDIS_CLUSTER_NODES format. */
  readonly env: string;
  /** Resolves when every running node reports cluster_state:ok (after restarts, for example). */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /** The masters holding slots now, from CLUSTER NODES of a running node. */
  masters(): Promise<ClusterMaster[]>;
  /** `redis-cli --cluster reshard` of `slots` slots from one master to another; resolves when done and ok. */
  reshard(from: ClusterMaster, to: ClusterMaster, slots: number): Promise<void>;
  /** SIGKILLs a master and resolves once a replica took over its slots and the cluster is ok. */
  failover(master: ClusterMaster, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterMaster {
  readonly id: string;
  readonly server: RedisServer;
  /** Slots the master serves. */
  readonly slots: number;
  /** Replicas of it not marked failed. */
  readonly replicas: number;
}

export interface StartClusterOptions {
  clusterNodeTimeoutMs?: number;
  /** How long to wait for cluster_state:ok (default 30 s). */
  timeoutMs?: number;
  /** Replicas per master (default 0): `masters * (1 + replicas)` processes. */
  replicas?: number;
}

/** Starts `masters` cluster nodes, joins them with `redis-cli --cluster create`, waits for ok. */
export async function startRedisCluster(masters = 3, options: StartClusterOptions = {}): Promise<RedisClusterHandle> {
  const nodes: RedisServer[] = [];
  const replicas = options.replicas ?? 0;
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      nodes.push(await startRedis({ cluster: true, clusterNodeTimeoutMs: options.clusterNodeTimeoutMs }));
    }
    const addresses = nodes.map((node) => `${node.host}:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], 60_000);
    const waitUntilOk = (timeoutMs = options.timeoutMs ?? 30_000): Promise<void> => waitForClusterOk(nodes, timeoutMs);
    const mastersNow = (): Promise<ClusterMaster[]> => clusterMasters(nodes);
    const handle: RedisClusterHandle = {
      nodes,
      startupNodes: nodes.map((node) => ({ host: node.host, port: node.port })),
      env: addresses.join(','),
      waitUntilOk,
      masters: mastersNow,
      async reshard(from, to, slots) {
        await run(
          'redis-cli',
          ['--cluster', 'reshard', `${from.server.host}:${from.server.port}`, '--cluster-from', from.id, '--cluster-to', to.id, '--cluster-slots', String(slots), '--cluster-yes'],
          120_000,
        );
        await waitUntilOk();
      },
      async failover(master, timeoutMs = 30_000) {
        await master.server.kill();
        const deadline = Date.now() + timeoutMs;
        // Promotion: another node serves the dead master's slots, and every running node is ok.
        for (;;) {
          const now = await mastersNow().catch(() => []);
          if (now.length > 0 && now.every((m) => m.id !== master.id) && now.reduce((n, m) => n + m.slots, 0) === 16_384) break;
          if (Date.now() > deadline) throw new Error(`no replica of ${master.server.port} promoted within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await waitForClusterOk(nodes, Math.max(1_000, deadline - Date.now()));
      },
      stop: async () => {
        await Promise.all(nodes.map((node) => node.stop()));
      },
    };
    await waitUntilOk();
    if (replicas > 0) await waitForReplicas(nodes, masters * replicas, options.timeoutMs ?? 30_000);
    return handle;
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill()));
    throw error;
  }
}

/**
 * Polls CLUSTER INFO on every running node: nodes agree on the slot map through gossip,
 * and no event announces it, so this is one of the few places a test has to poll.
 */
async function waitForClusterOk(allNodes: readonly RedisServer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nodes = allNodes.filter((node) => node.running);
  const clients = nodes.map(
    (node) => new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 }),
  );
  for (const client of clients) client.on('error', () => undefined);
  try {
    for (;;) {
      const states = await Promise.all(
        clients.map((client) =>
          client.cluster('INFO').then(
            (info) => /cluster_state:ok/.test(String(info)),
            () => false,
          ),
        ),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster not ok after ${timeoutMs} ms (${states.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

/** The masters that serve slots, from CLUSTER NODES of the first running node that answers. */
async function clusterMasters(nodes: readonly RedisServer[]): Promise<ClusterMaster[]> {
  let lastError: unknown;
  for (const node of nodes.filter((candidate) => candidate.running)) {
    try {
      const text = await redisCli(node, 'CLUSTER', 'NODES');
      const masters: ClusterMaster[] = [];
      const lines = text.trim().split('\n').map((line) => line.trim().split(' '));
      const replicasOf = new Map<string, number>();
      for (const [, , flags, master] of lines) {
        if (flags?.includes('slave') && !flags.includes('fail') && master) replicasOf.set(master, (replicasOf.get(master) ?? 0) + 1);
      }
      for (const [id, address, flags, , , , , , ...ranges] of lines) {
        // <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <state> <slot ranges...>
        if (!id || !address || !flags || !flags.includes('master') || flags.includes('fail')) continue;
        const port = Number(address.split('@')[0]!.split(':')[1]);
        const server = nodes.find((candidate) => candidate.port === port);
        let slots = 0;
        for (const range of ranges) {
          if (range.startsWith('[')) continue; // a slot being migrated or imported
          const [start, end] = range.split('-').map(Number);
          slots += end === undefined ? 1 : end - start! + 1;
        }
        if (server && slots > 0) masters.push({ id, server, slots, replicas: replicasOf.get(id) ?? 0 });
      }
      return masters;
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`no running cluster node answered CLUSTER NODES: ${String(lastError)}`);
}

/** Polls INFO replication until `count` replicas report their master link up. */
async function waitForReplicas(nodes: readonly RedisServer[], count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(nodes.map((node) => redisCli(node, 'INFO', 'replication').catch(() => '')));
    const up = infos.filter((info) => /role:slave/.test(info) && /master_link_status:up/.test(info)).length;
    if (up >= count) return;
    if (Date.now() > deadline) throw new Error(`${up} of ${count} replicas in sync after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
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

/** Runs `redis-cli -p <port> <args>` against a server, returns its output. */
export function redisCli(server: Pick<RedisServer, 'host' | 'port'>, ...args: string[]): Promise<string> {
  return run('redis-cli', ['-h', server.host, '-p', String(server.port), ...args], 10_000);
}

/** Deletes the keys matching `pattern` (every master of a cluster); returns how many. */
export async function deleteKeys(client: Redis | Cluster, pattern: string): Promise<number> {
  const targets = client instanceof Redis ? [client] : client.nodes('master');
  let deleted = 0;
  for (const node of targets) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      // One UNLINK per key: keys of different channels sit in different slots.
      for (const key of keys) deleted += await node.unlink(key);
    } while (cursor !== '0');
  }
  return deleted;
}

/** Kills the PIDs collected in `dir` that are still redis-server processes (global teardown). */
export function reapRegisteredPids(dir: string, names: readonly string[]): number {
  let killed = 0;
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      // Only a redis-server: a PID may have been reused by now.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('redis-server')) {
        process.kill(pid, 'SIGKILL');
        killed += 1;
      }
    } catch {
      // Already gone (or no /proc): nothing to reap.
    }
    try {
      unlinkSync(join(dir, name));
    } catch {
      // Removed concurrently by its worker.
    }
  }
  return killed;
}
