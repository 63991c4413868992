/**
 * Sharded pub/sub on Redis Cluster: SSUBSCRIBE/SUNSUBSCRIBE through an ioredis Cluster
 * created with `shardedSubscribers: true`, which keeps one subscriber connection per
 * master. ioredis requires every channel of one call to hash to the same slot, so
 * channels are grouped by slot. Messages come from `smessageBuffer`.
 *
 * Loss detection, per channel: a shard subscription lives on the node that owned the
 * channel's slot when it was subscribed (see placements.ts), and is gone when
 * - that node's connection ends (`-node`; a master killed, a connection dropped);
 * - the slot moves to another node (resharding, a replica promoted): Redis then drops
 *   the slot's shard subscriptions and pushes `sunsubscribe`. ioredis (5.x) has no
 *   handler for that push: it takes it for the reply of a command, and with none
 *   pending reports "Command queue state error" as a `nodeError` of that node, then
 *   forgets it; nor does it re-read the slot map, since the subscriber sends no keyed
 *   command that could meet a MOVED. So the push is caught through that `nodeError`,
 *   and the slot map is re-read after it, when ioredis replaces a subscriber, and every
 *   `slotCheckIntervalMs` while anything is subscribed: a channel whose slot now has
 *   another owner than the node it was subscribed on is lost, whatever announced it.
 * Only the lost channels are reported (`onLost`); the other shards keep delivering.
 * The whole client closing is `onDown`.
 *
 * A SSUBSCRIBE that meets MOVED (sent on a stale slot map) is never answered by ioredis
 * (it only re-reads the map): every command here has a deadline, and a subscribe that
 * fails is retried by the broker.
 */
import type { Cluster, Redis } from 'ioredis';
import { withDeadline } from './deadline.js';
import { MAX_CHANNELS_PER_COMMAND, chunk, type Handlers, type LinkEvents, type PubSubLink } from './link.js';
import { Placements } from './placements.js';
import { keySlot } from './slot.js';

export interface ClusterLinkOptions {
  /**
   * Deadline of one SSUBSCRIBE/SUNSUBSCRIBE (default 1000 ms): short, since one that met
   * MOVED is never answered and its channels wait for the retry.
   */
  commandTimeoutMs?: number;
  /** How often the slot map is re-read while channels are subscribed (default 1000 ms). */
  slotCheckIntervalMs?: number;
}

/** The reply ioredis could not match to a command: a server push, or a reply out of step. */
const UNMATCHED_REPLY = /Command queue state error.*Last reply: (.*)$/s;
const PUSHED_SUNSUBSCRIBE = /^sunsubscribe,(.+),\d+$/s;

export class ClusterLink implements PubSubLink {
  readonly independentShards = true;
  private handlers: Handlers = [];
  private events: LinkEvents | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly placements = new Placements();
  private readonly commandTimeoutMs: number;
  private readonly slotCheckIntervalMs: number;

  constructor(
    readonly client: Cluster,
    options: ClusterLinkOptions = {},
  ) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
    this.slotCheckIntervalMs = options.slotCheckIntervalMs ?? 1_000;
  }

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

  async subscribe(channels: readonly string[]): Promise<unknown> {
    const node = this.routeOf(keySlot(channels[0]!));
    const ticket = this.placements.ticket();
    const reply = await withDeadline(this.client.ssubscribe(...channels), this.commandTimeoutMs, 'SSUBSCRIBE');
    // An unknown route is recorded as '': the next slot check reports it and it is redone.
    this.placements.record(channels, node ?? '', ticket);
    return reply;
  }

  syncRoutes(): Promise<void> {
    // Resolves after ioredis updated its maps, whether the read succeeded or not.
    return new Promise((resolve) => this.client.refreshSlotsCache(() => resolve()));
  }

  unsubscribe(channels: readonly string[]): Promise<unknown> {
    this.placements.forget(channels);
    return withDeadline(this.client.sunsubscribe(...channels), this.commandTimeoutMs, 'SUNSUBSCRIBE');
  }

  attach(events: LinkEvents): void {
    this.detach();
    this.events = events;
    this.handlers = [
      ['smessageBuffer', events.onMessage],
      ['-node', this.onNodeEnded],
      ['nodeError', this.onNodeError],
      // Both follow a re-read of the slot map (a replaced subscriber: its slots moved).
      ['refresh', this.checkSlots],
      ['-subscriber', this.checkSlots],
      ['close', () => events.onDown('cluster connection closed')],
      ['end', () => events.onDown('cluster connection ended')],
      ['ready', () => events.onUp()],
      [
        'subscribersReady',
        () => {
          this.checkSlots();
          events.onUp();
        },
      ],
    ];
    for (const [event, handler] of this.handlers) this.client.on(event, handler);
    this.timer = setInterval(this.refreshSlots, this.slotCheckIntervalMs);
    this.timer.unref();
  }

  detach(): void {
    for (const [event, handler] of this.handlers) this.client.off(event, handler);
    this.handlers = [];
    this.events = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The node ioredis sends a slot's SSUBSCRIBE to: its subscriber group's slot map, which may lag `slots`. */
  private routeOf(slot: number): string | undefined {
    const group = (this.client as unknown as { shardedSubscribers?: { clusterSlots?: string[][] } }).shardedSubscribers;
    return (group?.clusterSlots?.[slot] ?? this.client.slots[slot])?.[0];
  }

  private report(channels: readonly string[], reason: string): void {
    if (channels.length > 0) this.events?.onLost(channels, reason);
  }

  private readonly refreshSlots = (): void => {
    if (this.placements.size > 0 && this.client.status === 'ready') this.client.refreshSlotsCache();
  };

  private readonly checkSlots = (): void => {
    this.report(
      this.placements.takeMoved((slot) => this.client.slots[slot]?.[0]),
      'slots moved to another node',
    );
  };

  /** A shard subscriber's connection (or the client's connection to a node) ended. */
  private readonly onNodeEnded = (redis: Redis | undefined, nodeKey?: string): void => {
    const node = nodeKey ?? (redis ? `${redis.options.host}:${redis.options.port}` : undefined);
    if (node === undefined) return;
    this.report(this.placements.takeOnNode(node), `connection to ${node} ended`);
  };

  private readonly onNodeError = (error: unknown, nodeKey?: string): void => {
    const unmatched = error instanceof Error ? UNMATCHED_REPLY.exec(error.message)?.[1] : undefined;
    if (unmatched === undefined) return;
    const pushed = PUSHED_SUNSUBSCRIBE.exec(unmatched)?.[1];
    if (pushed !== undefined) {
      // The node dropped this subscription (its slot left the node).
      this.report(this.placements.take([pushed]), `${nodeKey ?? 'a node'} unsubscribed it (slot moved)`);
    } else if (nodeKey !== undefined) {
      // Replies out of step: a push was taken for a command's reply; trust nothing on that node.
      this.report(this.placements.takeOnNode(nodeKey), `replies out of step on ${nodeKey}`);
    }
    // The push means the slot map changed: learn the new owners now.
    this.client.refreshSlotsCache();
  };
}
