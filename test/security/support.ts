/**
 * Shared by the security tests: a real redis-server with one `herald edge` and one
 * `herald ingest` on it (their own key prefix), the check that they still serve a
 * legitimate client after an attack, and small readers of a process's memory.
 *
 * Stopping the target stops the processes by PID; support/herald.ts then scans their
 * logs for credentials and fails the stop (so the file) on any.
 */
import { readFileSync } from 'node:fs';
import { startCluster, type Cluster, type Env } from '../support/cluster.js';
import type { HeraldProcess } from '../support/herald.js';
import { startRedis, type RedisServer, type StartRedisOptions } from '../support/redis.js';
import { expectStillServes, type ServeOptions } from '../hardening/support.js';

export interface Target {
  readonly redis: RedisServer;
  readonly cluster: Cluster;
  readonly edge: HeraldProcess;
  readonly ingest: HeraldProcess;
  /** A subscriber on the edge receives an event published on the ingest. */
  expectServes(options?: ServeOptions): Promise<void>;
  stop(): Promise<void>;
}

export interface TargetOptions {
  label: string;
  env?: Env;
  edgeEnv?: Env;
  ingestEnv?: Env;
  redis?: StartRedisOptions;
  /** REDIS_URL with a password (the redis-server then requires it). */
  redisPassword?: string;
}

export async function startTarget(options: TargetOptions): Promise<Target> {
  const password = options.redisPassword;
  const redis = await startRedis({ ...options.redis, args: [...(options.redis?.args ?? []), ...(password === undefined ? [] : ['--requirepass', password])] });
  const url = password === undefined ? undefined : `redis://:${encodeURIComponent(password)}@${redis.host}:${redis.port}`;
  let cluster: Cluster;
  try {
    cluster = await startCluster({
      redis,
      label: options.label,
      edges: 1,
      ingests: 1,
      env: { ...(url === undefined ? {} : { REDIS_URL: url }), ...options.env },
      ...(options.edgeEnv ? { edgeEnv: options.edgeEnv } : {}),
      ...(options.ingestEnv ? { ingestEnv: options.ingestEnv } : {}),
    });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  const edge = cluster.edges[0]!;
  const ingest = cluster.ingests[0]!;
  return {
    redis,
    cluster,
    edge,
    ingest,
    expectServes: (serve = {}) => expectStillServes({ wsUrl: edge.wsUrl, url: ingest.url }, serve),
    async stop() {
      try {
        await cluster.stop();
      } finally {
        await redis.stop();
      }
    },
  };
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Every problem type the edge may answer a command with (PROTOCOL.md section 3). */
export const COMMAND_PROBLEMS: ReadonlySet<string> = new Set([
  '/problems/forbidden',
  '/problems/invalid-message',
  '/problems/invalid-channel',
  '/problems/unknown-type',
  '/problems/too-many-subscriptions',
  '/problems/rate-limited',
  '/problems/continuity-lost',
  // `refresh` with a bad token (PROTOCOL.md section 11).
  '/problems/unauthorized',
]);

/** Close codes a client's own bad input may earn (PROTOCOL.md section 3). */
export const INPUT_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1003, 1007, 1008, 1009]);
