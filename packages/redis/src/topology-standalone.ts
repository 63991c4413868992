/**
 * One Redis: one shard, no slots, nothing refused for routing, so nothing is sent again
 * (a command whose connection was lost fails, and its caller decides); every key can be
 * in one script; PUBLISH/SUBSCRIBE.
 */
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './clients.js';
import { withDeadline } from './deadline.js';
import type { PubSubLink } from './link.js';
import { StandaloneLink } from './link-standalone.js';
import { runPerShard } from './shard-pipelines.js';
import type { RedisTopology, SendOptions, ShardBatchOptions, ShardCommand } from './topology.js';

export class StandaloneTopology implements RedisTopology {
  readonly kind = 'redis';
  readonly publishCommand = 'publish';
  readonly scriptsSpanSlots = true;

  constructor(readonly client: Redis) {}

  slotOf(): number {
    return 0;
  }

  groupByShard(slots: readonly number[]): number[][] {
    return slots.length === 0 ? [] : [slots.map((_, i) => i)];
  }

  runPerShard(commands: readonly ShardCommand[], options: ShardBatchOptions): Promise<unknown[]> {
    return runPerShard(this, commands, options);
  }

  send<T>(attempt: () => Promise<T>, options: SendOptions): Promise<T> {
    return withDeadline(attempt(), Math.max(1, options.deadline - Date.now()), options.what);
  }

  isRetryable(): boolean {
    return false;
  }

  pubsub(subscriber: RedisClient): PubSubLink {
    if (subscriber instanceof Cluster) throw new TypeError('the command client is one Redis but the subscriber a Cluster: both must be the same kind');
    // A connection in subscriber mode refuses every other command.
    if (subscriber === this.client) throw new TypeError('the subscriber must be a client of its own');
    return new StandaloneLink(subscriber);
  }
}
