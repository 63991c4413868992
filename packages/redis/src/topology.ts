/**
 * What differs between one Redis and a Redis Cluster, behind one interface: routing
 * (slots, shards), sending (a cluster refuses commands while its topology changes, so
 * they are sent again within the caller's deadline), what one script may touch, and
 * pub/sub (PUBLISH/SUBSCRIBE against sharded SPUBLISH/SSUBSCRIBE). Herald's Redis code
 * (broker, admission, ingest stream) is written once against it; `topologyOf`
 * (topology-of.ts) is the only place that asks which one a client is.
 */
import type { RedisClient } from './clients.js';
import type { PubSubLink } from './link.js';

/** A command argument, as ioredis takes it. */
export type CommandArg = string | number | Buffer;

/** One command of a shard batch: the slot of its keys and the command with its arguments. */
export interface ShardCommand {
  readonly slot: number;
  readonly command: string;
  readonly args: readonly CommandArg[];
}

export interface ShardBatchOptions {
  /** Epoch ms: nothing is sent again after it. */
  readonly deadline: number;
  /**
   * Whether running a command twice is harmless (SET NX, SET XX): then a command whose
   * connection was lost, which may have run, is sent again too.
   */
  readonly idempotent: boolean;
  /** Names the operation in errors. */
  readonly what: string;
}


export interface SendOptions {
  /** Epoch ms: the attempt (and any retry) must be done by then. */
  readonly deadline: number;
  /** Whether running the command twice is harmless: then one whose connection was lost is sent again too. */
  readonly idempotent: boolean;
  /** Names the operation in errors. */
  readonly what: string;
}

export interface PubSubOptions {
  /** Deadline of one (S)SUBSCRIBE on a cluster (default 1000 ms). */
  readonly commandTimeoutMs?: number;
  /** How often a cluster's slot map is re-read while channels are subscribed (default 1000 ms). */
  readonly slotCheckIntervalMs?: number;
}

export interface RedisTopology {
  readonly kind: 'redis' | 'redis-cluster';
  /** The command client everything below routes through. */
  readonly client: RedisClient;
  /** PUBLISH on one Redis, SPUBLISH (sharded pub/sub) on a cluster. */
  readonly publishCommand: 'publish' | 'spublish';
  /**
   * Whether one script may touch keys of any slot (one Redis): a step over several
   * channels can then be one atomic script. On a cluster a script's keys share a slot.
   */
  readonly scriptsSpanSlots: boolean;
  /** The slot of a key; 0 on one Redis, where slots do not matter. */
  slotOf(key: string): number;
  /**
   * Indices of `slots` grouped so that each group can go as one pipeline, in index
   * order: all of them on one Redis, one group per node on a cluster.
   */
  groupByShard(slots: readonly number[]): number[][];
  /** Commands as one pipeline per shard; per command its reply or an Error (see shard-pipelines.ts). */
  runPerShard(commands: readonly ShardCommand[], options: ShardBatchOptions): Promise<unknown[]>;
  /**
   * Runs `attempt` within the deadline. On a cluster, an attempt refused because the
   * topology is changing (MOVED/ASK passed back, TRYAGAIN, CLUSTERDOWN, a failover) is
   * made again until it succeeds, fails for good, or the deadline passes.
   */
  send<T>(attempt: () => Promise<T>, options: SendOptions): Promise<T>;
  /** Whether sending a command that failed with `error` again may succeed (never on one Redis). */
  isRetryable(error: unknown, idempotent: boolean): boolean;
  /**
   * The pub/sub link over `subscriber`, a client of the same kind made for the
   * `subscriber` role; throws a TypeError for a client that cannot serve.
   */
  pubsub(subscriber: RedisClient, options?: PubSubOptions): PubSubLink;
}
