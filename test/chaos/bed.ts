/**
 * The test bed of one chaos case: a real redis-server of its own (persistence as the case
 * needs), `herald edge` x 3 and `herald ingest` x N on a key prefix of their own, and an
 * ioredis connection for the test's own look-ups (admission keys, stream pending
 * entries). Every process is stopped by PID in `stop()`, and killed when the worker
 * exits whatever happened (the helpers track them).
 *
 *   const bed = await startBed({ label: 'aof', redisArgs: AOF });
 *   bed.herald.edges[0], bed.herald.ingests[0], bed.redis.kill(), bed.admin.get(...)
 *   await bed.stop();
 */
import { Redis } from 'ioredis';
import { startCluster, stopProcess, type Cluster, type Env } from '../support/cluster.js';
import type { HeraldProcess } from '../support/herald.js';
import { startRedis, type RedisServer } from '../support/redis.js';

/** Every write on disk before it is answered: a SIGKILL loses nothing that was acknowledged. */
export const AOF_ALWAYS = ['--appendonly', 'yes', '--appendfsync', 'always'] as const;

export interface BedOptions {
  label: string;
  redisArgs?: readonly string[];
  edges?: number;
  ingests?: number;
  env?: Env;
  edgeEnv?: Env;
  ingestEnv?: Env;
}

export interface Bed {
  readonly redis: RedisServer;
  readonly herald: Cluster;
  /** The test's own connection (reconnects by itself across a Redis restart). */
  readonly admin: Redis;
  /** Admission keys of this prefix. */
  readonly admissionTotalKey: string;
  readonly admissionNodesKey: string;
  /** SIGKILLs one process and resolves when it is gone (it stays in the lists, dead). */
  kill(process: HeraldProcess): Promise<void>;
  stop(): Promise<void>;
}

export async function startBed(options: BedOptions): Promise<Bed> {
  const redis = await startRedis({ args: options.redisArgs ?? [] });
  let herald: Cluster;
  try {
    herald = await startCluster({
      redis,
      label: options.label,
      edges: options.edges ?? 3,
      ingests: options.ingests ?? 1,
      env: options.env,
      edgeEnv: options.edgeEnv,
      ingestEnv: options.ingestEnv,
    });
  } catch (error) {
    await redis.kill();
    throw error;
  }
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  admin.on('error', () => undefined);
  const tag = `{${herald.prefix}:admission}`;
  return {
    redis,
    herald,
    admin,
    admissionTotalKey: `${tag}:total`,
    admissionNodesKey: `${tag}:nodes`,
    async kill(process) {
      await process.stop('SIGKILL');
    },
    async stop() {
      admin.disconnect();
      await Promise.all([...herald.edges, ...herald.ingests].map((p) => stopProcess(p, 5_000)));
      await redis.kill();
    },
  };
}
