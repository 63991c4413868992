/**
 * Processes of a bench run: servers (Herald via its CLI, the peers, redis-server),
 * load generators and publishers (forked, with IPC). Every process is tracked by PID
 * and killed by PID when the run ends, whatever happened. Nothing is killed by name.
 */
import { execFile, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const ROOT_DIR = join(BENCH_DIR, '..');
export const CLI = join(ROOT_DIR, 'services/herald/dist/main.js');
export const SECRET = 'bench-secret-0123456789abcdef0123456789';
export const API_KEY = 'bench-ingest-key-0123456789';

const children = new Map(); // pid -> child
const tempDirs = new Set();

function killAll() {
  for (const [pid, child] of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

function track(child) {
  children.set(child.pid, child);
  child.on('exit', () => children.delete(child.pid));
  return child;
}

export function tempDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `herald-bench-${label}-`));
  tempDirs.add(dir);
  return dir;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export { sleep };

/**
 * Spawns a server process and resolves once it printed its listening line (a JSON line
 * with `msg` "herald listening" or "listening" and a `port`).
 */
export function spawnServer({ name, args, env = {}, nodeArgs = [], cwd = ROOT_DIR, timeoutMs = 20_000 }) {
  // `herald edge` with EDGE_WORKERS: every worker prints its listening line.
  const workers = args.includes('edge') && /^\d+$/.test(env.EDGE_WORKERS ?? '') ? Number(env.EDGE_WORKERS) : 1;
  let listening = 0;
  const child = track(
    spawn(process.execPath, [...nodeArgs, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', BENCH_DEADLINE_MS: String(30 * 60_000), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const output = [];
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms: ${stderr}${output.join('\n')}`)), timeoutMs);
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (output.length < 200) output.push(line);
        if (!line.startsWith('{')) continue;
        let record;
        try {
          record = JSON.parse(line);
        } catch {
          continue;
        }
        if ((record.msg === 'herald listening' || record.msg === 'listening') && record.port) {
          listening += 1;
          if (listening < workers) continue;
          clearTimeout(timer);
          resolve({
            name,
            pid: child.pid,
            port: record.port,
            url: `http://127.0.0.1:${record.port}`,
            child,
            output,
            stop: () => stopChild(child),
          });
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      if (stderr.length < 20_000) stderr += chunk;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening: ${stderr}${output.join('\n')}`));
    });
  });
}

export function stopChild(child, signal = 'SIGTERM', graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(child.pid, signal);
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/** Forks a worker (load generator or publisher) and resolves once it said hello. */
export function forkWorker(script, { env = {}, execArgv = [] } = {}) {
  const child = track(
    fork(join(BENCH_DIR, script), [], {
      env: { ...process.env, BENCH_DEADLINE_MS: String(15 * 60_000), ...env },
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  return new Promise((resolve, reject) => {
    child.once('message', (message) => {
      if (message.type === 'hello') resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) at start`)));
  });
}

const CLK_TCK = 100;

/**
 * CPU seconds (user + system) of a process and its live descendants (the workers of an
 * `herald edge` with EDGE_WORKERS), from /proc (10 ms resolution).
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] utime, fields[12] stime (the 14th and 15th fields of stat)
  let total = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  for (const child of childrenOf(pid)) {
    try {
      total += cpuSeconds(child);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function cpuSplit(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Starts a private redis-server on a free port (no persistence); `args` are extra `--name value` pairs. */
export async function startRedis(args = []) {
  const port = await freePort();
  const dir = tempDir('redis');
  const child = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxclients', '20000', '--loglevel', 'warning', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const { Redis } = await import('ioredis');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      break;
    } catch {
      client.disconnect();
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await sleep(50);
    }
  }
  return { pid: child.pid, port, url: `redis://127.0.0.1:${port}`, child, stop: () => stopChild(child) };
}

/**
 * A private Redis Cluster of `masters` masters (no replicas, no persistence), joined with
 * `redis-cli --cluster create` as an operator would. Returns `{ pids, nodes, stop }`:
 * `nodes` is the REDIS_CLUSTER_NODES value.
 */
export async function startRedisCluster(masters = 3) {
  const servers = [];
  const stop = () => Promise.all(servers.map((server) => server.stop()));
  try {
    for (let i = 0; i < masters; i++) {
      // The cluster bus gets a free port of its own (port + 10000 may be out of range or taken).
      const busPort = await freePort();
      servers.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-node-timeout', '5000']));
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await new Promise((resolve, reject) => {
      execFile('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`redis-cli --cluster create failed: ${error.message}\n${stdout}${stderr}`)) : resolve(),
      );
    });
    const { Redis } = await import('ioredis');
    const deadline = Date.now() + 30_000;
    // Every node must agree the cluster is ok (gossip; nothing announces it).
    for (;;) {
      const states = await Promise.all(
        servers.map(async (server) => {
          const client = new Redis({ port: server.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
          client.on('error', () => {});
          try {
            return /cluster_state:ok/.test(String(await client.cluster('INFO')));
          } catch {
            return false;
          } finally {
            client.disconnect();
          }
        }),
      );
      if (states.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error('Redis Cluster not ok after 30 s');
      await sleep(100);
    }
    return { pids: servers.map((server) => server.pid), nodes: addresses.join(','), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function fetchJson(url, options) {
  const response = await fetch(url, options);
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Node's `process.memoryUsage().heapUsed`-equivalent from Herald's Prometheus metrics. */
export async function heraldHeap(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const used = /herald_nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)/.exec(text);
  const total = /herald_nodejs_heap_size_total_bytes(?:\{[^}]*\})? ([0-9.e+]+)/.exec(text);
  return { heapUsed: used ? Number(used[1]) : NaN, heapTotal: total ? Number(total[1]) : NaN };
}
