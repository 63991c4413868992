/**
 * Sharded pub/sub on Redis Cluster: SSUBSCRIBE/SUNSUBSCRIBE through an ioredis Cluster
 * created with `shardedSubscribers: true`, which keeps one subscriber connection per
 * master. ioredis requires every channel of one call to hash to the same slot, so
 * channels are grouped by slot. Messages come from `smessageBuffer`.
 *
 * Loss detection: ioredis emits `-node` when a node connection (a shard subscriber's
 * included) ends and `-subscriber` when it drops a shard subscriber after a topology
 * change; either may have taken subscriptions with it. It re-creates subscribers and
 * emits `subscribersReady` when done, which is when re-subscribing can succeed. A
 * `-node` of a connection that held no subscription costs one extra resubscribe and
 * gap fill, never a missed loss.
 */
import type { Cluster } from 'ioredis';
import { keySlot } from './slot.js';
import { MAX_CHANNELS_PER_COMMAND, chunk, type Handlers, type LinkEvents, type PubSubLink } from './link.js';

export class ClusterLink implements PubSubLink {
  private handlers: Handlers = [];

  constructor(readonly client: Cluster) {}

  isUp(): boolean {
    return this.client.status === 'ready';
  }

  group(channels: readonly string[]): string[][] {
    const bySlot = new Map<number, string[]>();
    for (const channel of channels) {
      const slot = keySlot(channel);
      const group = bySlot.get(slot);
      if (group) group.push(channel);
      else bySlot.set(slot, [channel]);
    }
    const groups: string[][] = [];
    for (const group of bySlot.values()) groups.push(...chunk(group, MAX_CHANNELS_PER_COMMAND));
    return groups;
  }

  subscribe(channels: readonly string[]): Promise<unknown> {
    return this.client.ssubscribe(...channels);
  }

  unsubscribe(channels: readonly string[]): Promise<unknown> {
    return this.client.sunsubscribe(...channels);
  }

  attach(events: LinkEvents): void {
    this.detach();
    this.handlers = [
      ['smessageBuffer', events.onMessage],
      ['-node', () => events.onDown('a cluster node connection ended')],
      ['-subscriber', () => events.onDown('a shard subscriber was replaced')],
      ['close', () => events.onDown('cluster connection closed')],
      ['end', () => events.onDown('cluster connection ended')],
      ['ready', () => events.onUp()],
      ['subscribersReady', () => events.onUp()],
    ];
    for (const [event, handler] of this.handlers) this.client.on(event, handler);
  }

  detach(): void {
    for (const [event, handler] of this.handlers) this.client.off(event, handler);
    this.handlers = [];
  }
}
