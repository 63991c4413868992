/**
 * A Redis Cluster: 16,384 slots over its masters. A script's keys must share a slot; a
 * pipeline must stay on one node of ioredis's own slot table; commands refused while
 * slots move or a master fails over are sent again within the caller's deadline
 * (cluster-retry.ts); sharded pub/sub (SPUBLISH, SSUBSCRIBE per slot, link-cluster.ts).
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from './clients.js';
import { isRetryable, retryOnCluster } from './cluster-retry.js';
import type { PubSubLink } from './link.js';
import { ClusterLink } from './link-cluster.js';
import { runPerShard } from './shard-pipelines.js';
import { keySlot } from './slot.js';
import type { PubSubOptions, RedisTopology, SendOptions, ShardBatchOptions, ShardCommand } from './topology.js';

export class ClusterTopology implements RedisTopology {
  readonly kind = 'redis-cluster';
  readonly publishCommand = 'spublish';
  readonly scriptsSpanSlots = false;

  constructor(readonly client: Cluster) {}

  slotOf(key: string): number {
    return keySlot(key);
  }

  groupByShard(slots: readonly number[]): number[][] {
    const groups = new Map<string, number[]>();
    slots.forEach((slot, i) => {
      const node = this.nodeOf(slot);
      const group = groups.get(node);
      if (group) group.push(i);
      else groups.set(node, [i]);
    });
    return [...groups.values()];
  }

  runPerShard(commands: readonly ShardCommand[], options: ShardBatchOptions): Promise<unknown[]> {
    return runPerShard(this, commands, options);
  }

  send<T>(attempt: () => Promise<T>, options: SendOptions): Promise<T> {
    return retryOnCluster(this.client, attempt, options.deadline, options.idempotent, options.what);
  }

  isRetryable(error: unknown, idempotent: boolean): boolean {
    return isRetryable(error, idempotent);
  }

  pubsub(subscriber: RedisClient, options: PubSubOptions = {}): PubSubLink {
    if (!(subscriber instanceof Cluster)) throw new TypeError('the command client is a Cluster but the subscriber one Redis: both must be the same kind');
    if (subscriber === this.client) throw new TypeError('the subscriber must be a client of its own');
    // Without it ioredis sends SSUBSCRIBE to one random node and misses the other shards.
    if (subscriber.options.shardedSubscribers !== true) throw new TypeError('a Cluster subscriber needs the option shardedSubscribers: true');
    return new ClusterLink(subscriber, options);
  }

  /**
   * The node group of a slot in the client's own table, the grouping its pipelines
   * accept; before the slot map is known, the slot itself (a pipeline per slot is always
   * valid).
   */
  private nodeOf(slot: number): string {
    const groupsBySlot = (this.client as unknown as { _groupsBySlot?: Array<number | undefined> })._groupsBySlot;
    const group = groupsBySlot?.[slot];
    if (group !== undefined) return `group:${group}`;
    return this.client.slots[slot]?.join(';') ?? `slot:${slot}`;
  }
}
