/**
 * The pub/sub side of a topology: how subscribe commands are sent and grouped, and which
 * client events mean "subscriptions may be lost" or "usable again". One implementation
 * per topology (one Redis: SUBSCRIBE; Cluster: SSUBSCRIBE per slot), made by
 * `RedisTopology.pubsub`; the subscription bookkeeping above it (the broker's) is shared.
 */
import type { EventEmitter } from 'node:events';

export interface LinkEvents {
  /** A message of a subscribed channel, straight from the client's Buffer event. */
  onMessage(channel: Buffer, payload: Buffer): void;
  /** The connection was lost: every subscription may be gone. */
  onDown(reason: string): void;
  /**
   * Only these subscriptions may be gone (a shard's connection ended, their slot moved
   * to another node); the others still deliver. Channels not wanted are ignored.
   */
  onLost(redisChannels: readonly string[], reason: string): void;
  /** The client is usable again: subscriptions can be re-established. */
  onUp(): void;
}

export interface PubSubLink {
  /**
   * True when a loss can be limited to some channels (`onLost`): a cluster, where one
   * shard fails or hands a slot over while the others carry on.
   */
  readonly independentShards?: boolean;
  /** True when commands can be sent now. */
  isUp(): boolean;
  /**
   * Before lost channels are subscribed again: learn where they live now (a cluster
   * re-reads its slot map), so the commands go to the current owners.
   */
  syncRoutes?(): Promise<void>;
  /** Splits channels into groups that one subscribe command may carry. */
  group(channels: readonly string[]): string[][];
  subscribe(channels: readonly string[]): Promise<unknown>;
  unsubscribe(channels: readonly string[]): Promise<unknown>;
  /** Starts forwarding client events; handlers are registered once, not per message. */
  attach(events: LinkEvents): void;
  detach(): void;
}

/** An EventEmitter listener, as Node types it. */
type Listener = Parameters<EventEmitter['on']>[1];

/** Event name -> handler pairs, kept to detach exactly what was attached. */
export type Handlers = Array<[string, Listener]>;

/** Upper bound of channels per SUBSCRIBE, to keep single commands reasonably small. */
export const MAX_CHANNELS_PER_COMMAND = 1000;

export function chunk(channels: readonly string[], size: number): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < channels.length; i += size) groups.push(channels.slice(i, i + size));
  return groups;
}
