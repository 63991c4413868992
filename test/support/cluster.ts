/**
 * Herald clusters for the multi-process tests: N `herald edge` and M `herald ingest`
 * processes on one Redis or a Redis Cluster, sharing a key prefix of their own.
 *
 *   const cluster = await startCluster({ redis, edges: 3, ingests: 2 });
 *   cluster.edges[1].wsUrl, cluster.ingests[0].url, cluster.prefix
 *   await cluster.stop();                        // every process, by PID
 *
 * Also the small waiting and checking helpers those tests share.
 */
import { compareSeq } from '@herald/protocol';
import { expect } from 'vitest';
import { startHerald, type Exit, type HeraldProcess } from './herald.js';
import { uniquePrefix, type RedisClusterHandle, type RedisServer } from './redis.js';
import type { Frame, TestClient } from './ws-client.js';

/** A prefix no other test shares, in the form REDIS_KEY_PREFIX accepts (no ':'). */
export function keyPrefix(label: string): string {
  return uniquePrefix(label).replace(/:/g, '.');
}

/** What the processes need of a Redis Cluster: its seed nodes (the TLS clusters of redis-tls.ts have no more). */
export type ClusterSeeds = Pick<RedisClusterHandle, 'nodes' | 'env'>;

/** REDIS_URL for one Redis, REDIS_CLUSTER_NODES for a Redis Cluster. */
export function redisEnv(redis: RedisServer | ClusterSeeds): Record<string, string> {
  return 'nodes' in redis ? { REDIS_CLUSTER_NODES: redis.env } : { REDIS_URL: redis.url };
}

export type Env = Record<string, string | undefined>;

export interface ClusterOptions {
  redis: RedisServer | ClusterSeeds;
  edges?: number;
  ingests?: number;
  /** Names the key prefix and the node ids. */
  label?: string;
  /** For every process. */
  env?: Env;
  edgeEnv?: Env;
  ingestEnv?: Env;
}

export interface Cluster {
  readonly prefix: string;
  readonly label: string;
  readonly edges: HeraldProcess[];
  readonly ingests: HeraldProcess[];
  readonly env: Env;
  /** Starts one more process of the cluster (same Redis, prefix and settings). */
  add(mode: 'edge' | 'ingest', env?: Env): Promise<HeraldProcess>;
  /** Stops every process still running (SIGTERM, SIGKILL after a bound). */
  stop(): Promise<void>;
}

const everyProcess = new Set<HeraldProcess>();
let nodeCounter = 0;

/** Stops one process by its PID: SIGTERM, then SIGKILL if it has not exited in `graceMs`. */
export async function stopProcess(herald: HeraldProcess, graceMs = 10_000): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    herald.stop('SIGTERM'),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), graceMs);
    }),
  ]);
  clearTimeout(timer);
  everyProcess.delete(herald);
  return exit ?? herald.stop('SIGKILL');
}

/** Stops every process the helpers started and that is still tracked (afterAll hooks). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...everyProcess].map((herald) => stopProcess(herald)));
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const label = options.label ?? 'cluster';
  const prefix = keyPrefix(label);
  const env: Env = {
    ...redisEnv(options.redis),
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const edges: HeraldProcess[] = [];
  const ingests: HeraldProcess[] = [];
  const add = async (mode: 'edge' | 'ingest', extra: Env = {}): Promise<HeraldProcess> => {
    const nodeId = `${label}-${mode}-${process.pid}-${++nodeCounter}`;
    const herald = await startHerald({
      mode,
      waitReady: true,
      timeoutMs: 30_000,
      env: { NODE_ID: nodeId, ...env, ...(mode === 'edge' ? options.edgeEnv : options.ingestEnv), ...extra },
    });
    everyProcess.add(herald);
    (mode === 'edge' ? edges : ingests).push(herald);
    return herald;
  };
  const cluster: Cluster = {
    prefix,
    label,
    edges,
    ingests,
    env,
    add,
    async stop() {
      await Promise.all([...edges, ...ingests].map((herald) => stopProcess(herald)));
    },
  };
  try {
    // Ingest first: the edges then find the stream group and keys in place (not required).
    await Promise.all(Array.from({ length: options.ingests ?? 0 }, () => add('ingest')));
    await Promise.all(Array.from({ length: options.edges ?? 0 }, () => add('edge')));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** The node id a process was started with. */
export function nodeIdOf(herald: HeraldProcess): string {
  const line = herald.stdout.find((text) => text.includes('"herald listening"'));
  return (JSON.parse(line ?? '{}') as { node?: string }).node ?? '';
}

/**
 * Polls `predicate` until it holds: for state that nothing announces (a Redis key, a
 * readiness answer, a lease expiring). Throws with `what` after `timeoutMs`.
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 25, what = 'the condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** GET /readyz status, or 0 when the process does not answer. */
export async function readyStatus(herald: HeraldProcess): Promise<number> {
  try {
    const response = await fetch(`${herald.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Resolves once every process answers /readyz with `status`. */
export function waitForReadiness(processes: readonly HeraldProcess[], status: 200 | 503, timeoutMs = 15_000): Promise<void> {
  return waitUntil(async () => (await Promise.all(processes.map(readyStatus))).every((s) => s === status), {
    timeoutMs,
    what: `/readyz ${status} on ${processes.length} process(es)`,
  });
}

/** Runs `tasks` with at most `limit` in flight; results in order. */
export async function inPool<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

/** Events of one channel on one connection: strictly increasing seq (so no duplicate), unique ids. */
export function expectOrderedOnce(events: readonly Frame[]): void {
  for (let i = 1; i < events.length; i++) {
    if (compareSeq(events[i]!.seq, events[i - 1]!.seq) <= 0) {
      throw new Error(`seq not increasing at ${i}: ${events[i - 1]!.seq} then ${events[i]!.seq} (${events[i - 1]!.id}, ${events[i]!.id})`);
    }
  }
  const ids = events.map((event) => event.id as string);
  expect(new Set(ids).size).toBe(ids.length);
}

/** Resolves once `done()` holds for the client's frames; re-checked on every frame it receives. */
export function waitForFrames(client: TestClient, done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      // The client records the frame in its own listener, registered before this one.
      if (!done()) return;
      finish();
      resolve();
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${what}: not received within ${timeoutMs} ms (${client.frames.length} frames, last ${JSON.stringify(client.frames.at(-1))})`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      client.socket.off('message', check);
    };
    client.socket.on('message', check);
  });
}

/** Resolves once the client has received the event with id `id` on `channel`. */
export function waitForEventId(client: TestClient, channel: string, id: string, timeoutMs = 10_000): Promise<void> {
  return waitForFrames(client, () => client.frames.some((frame) => frame.id === id && frame.channel === channel && typeof frame.seq === 'string'), `event ${id} of ${channel}`, timeoutMs);
}
