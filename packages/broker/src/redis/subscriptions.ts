/**
 * The broker's pub/sub subscriptions: what the owner wants, what is confirmed live on
 * the current connection, and what the server may still hold. Calls made in the same
 * tick are batched into one command per group (per slot on a cluster); commands for
 * one channel are sent in call order on one connection, and a reply only counts when
 * no later command for that channel has been sent since.
 *
 * After a disconnection (`suspend`) nothing is sent until `resync` re-subscribes every
 * wanted channel (and drops what the server may hold but nobody wants) in one round.
 * After a failed round, the next one first probes with a single group that failed: a
 * shard that stays down costs one small command per attempt, not a resend of every
 * channel (ioredis also keeps a copy of each SSUBSCRIBE's channels, even failed ones).
 *
 * On a cluster some channels can be lost while the rest stay live (`lose`: a shard
 * failed, a slot moved); they are delivered nothing until `restoreLost` subscribed
 * them again, which reports them through `onRestored`.
 */
import { BrokerUnavailableError } from '../broker.js';
import type { PubSubLink } from '@herald/redis';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** One sent command, shared by the channels it carries. */
class Op {
  constructor(
    readonly subscribe: boolean,
    readonly epoch: number,
  ) {}
}

export class Subscriptions {
  /** Redis channel -> Herald channel, for every channel the owner wants. */
  private readonly wanted = new Map<string, string>();
  /** Wanted and confirmed subscribed on the current connection. */
  private readonly live = new Set<string>();
  /** Subscribed at some point and not confirmed unsubscribed since (may linger on the server). */
  private readonly onServer = new Set<string>();
  /** The latest command sent for a channel, until its reply. */
  private readonly pending = new Map<string, Op>();
  private readonly waiters = new Map<string, Waiter[]>();
  private dirty = new Set<string>();
  private flushScheduled = false;
  private flushWaiters: Array<() => void> = [];
  /** Commands may be sent only while active (the broker is ready). */
  private active = false;
  private closed = false;
  /** Bumped on every suspension: replies of older commands no longer count. */
  private epoch = 0;
  /** A group that failed in the last resync, tried alone first next time. */
  private probe: readonly string[] | undefined;
  /** Wanted channels whose subscription was lost while the rest stayed live (`lose`). */
  private readonly lost = new Set<string>();

  constructor(
    private readonly link: PubSubLink,
    /** A subscribe command failed on the current connection: its channels are not live. */
    private readonly onCommandFailed: (error: unknown, channels: readonly string[]) => void,
    /** Channels that were lost (`lose`) are live again. */
    private readonly onRestored: (redisChannels: readonly string[]) => void = () => {},
  ) {}

  /** The Herald channel of a Redis channel the owner wants and that is not lost, for delivery. */
  lookup(redisChannel: string): string | undefined {
    if (this.lost.size > 0 && this.lost.has(redisChannel)) return undefined;
    return this.wanted.get(redisChannel);
  }

  /** The Herald channel of a wanted Redis channel. */
  channelOf(redisChannel: string): string | undefined {
    return this.wanted.get(redisChannel);
  }

  get size(): number {
    return this.wanted.size;
  }

  /** How many channels wait for `restoreLost`. */
  get lostCount(): number {
    return this.lost.size;
  }

  /**
   * These channels' subscriptions are gone (the others stand): nothing is delivered for
   * them, and replies in flight for them no longer count, until `restoreLost`. Returns
   * the wanted channels newly lost.
   */
  lose(redisChannels: readonly string[]): string[] {
    if (!this.active) return [];
    const newly: string[] = [];
    for (const redisChannel of redisChannels) {
      if (!this.wanted.has(redisChannel)) continue;
      // A restore in flight may have gone to the node that just dropped it.
      this.pending.delete(redisChannel);
      if (this.lost.has(redisChannel)) continue;
      this.live.delete(redisChannel);
      this.lost.add(redisChannel);
      newly.push(redisChannel);
    }
    return newly;
  }

  /**
   * Subscribes the lost channels again; those confirmed are reported to `onRestored`
   * (and delivered from then on). Resolves with how many are still lost.
   */
  async restoreLost(): Promise<number> {
    if (!this.active || this.lost.size === 0) return this.lost.size;
    const epoch = this.epoch;
    const channels = [...this.lost].filter((redisChannel) => this.pending.get(redisChannel)?.subscribe !== true);
    await Promise.all(this.link.group(channels).map((group) => this.command(true, group, epoch, true)));
    return this.lost.size;
  }

  /** Resolves once the channel is live (or no longer wanted); rejects on close. */
  add(redisChannel: string, channel: string): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('redis broker is closed'));
    this.wanted.set(redisChannel, channel);
    if (this.live.has(redisChannel)) return Promise.resolve();
    this.markDirty(redisChannel);
    return new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(redisChannel);
      if (list) list.push({ resolve, reject });
      else this.waiters.set(redisChannel, [{ resolve, reject }]);
    });
  }

  /** Delivery stops at once; resolves when the batched UNSUBSCRIBE was answered. */
  remove(redisChannel: string): Promise<void> {
    if (this.closed || !this.wanted.delete(redisChannel)) return Promise.resolve();
    this.live.delete(redisChannel);
    this.lost.delete(redisChannel);
    // A subscribe still waiting is superseded: its caller unsubscribed.
    this.settle(redisChannel);
    this.markDirty(redisChannel);
    return new Promise<void>((resolve) => this.flushWaiters.push(resolve));
  }

  /** Connection lost: nothing is live any more, and replies in flight no longer count. */
  suspend(): void {
    this.active = false;
    this.epoch += 1;
    this.live.clear();
    this.pending.clear();
    // The resync after a suspension covers every channel, and the owner hears one
    // recovery for all of them.
    this.lost.clear();
  }

  /**
   * Re-subscribes every wanted channel and unsubscribes leftovers, in one round.
   * True when all of it was confirmed with no suspension in between.
   */
  async resync(): Promise<boolean> {
    const epoch = this.epoch;
    // Everything is covered by this round; later calls are flushed after `resume`.
    this.dirty.clear();
    const probe = this.probe?.filter((redisChannel) => this.wanted.has(redisChannel) && !this.live.has(redisChannel));
    if (probe !== undefined && probe.length > 0 && !(await this.command(true, probe, epoch))) return false;
    this.probe = undefined;
    const subscribe: string[] = [];
    const unsubscribe: string[] = [];
    for (const redisChannel of this.wanted.keys()) if (!this.live.has(redisChannel)) subscribe.push(redisChannel);
    for (const redisChannel of this.onServer) if (!this.wanted.has(redisChannel)) unsubscribe.push(redisChannel);
    const failed = await this.send(subscribe, unsubscribe, epoch);
    this.probe = failed;
    return failed === undefined && epoch === this.epoch && !this.closed;
  }

  /** Subscriptions are whole again: send what was asked for meanwhile. */
  resume(): void {
    if (this.closed) return;
    this.active = true;
    for (const redisChannel of this.live) this.settle(redisChannel);
    for (const redisChannel of this.wanted.keys()) if (!this.live.has(redisChannel)) this.dirty.add(redisChannel);
    for (const redisChannel of this.onServer) if (!this.wanted.has(redisChannel)) this.dirty.add(redisChannel);
    this.scheduleFlush();
  }

  close(): void {
    this.closed = true;
    this.suspend();
    const error = new BrokerUnavailableError('redis broker is closed');
    for (const list of this.waiters.values()) for (const waiter of list) waiter.reject(error);
    this.waiters.clear();
    this.wanted.clear();
    this.onServer.clear();
    this.dirty.clear();
    this.releaseFlushWaiters();
  }

  private markDirty(redisChannel: string): void {
    this.dirty.add(redisChannel);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate rather than a microtask: it also gathers calls made from separate
    // promise continuations of the same turn (a burst of client subscribes).
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    if (!this.active) {
      // Disconnected: the next resync covers every channel.
      this.dirty.clear();
      for (const resolve of waiters) resolve();
      return;
    }
    const subscribe: string[] = [];
    const unsubscribe: string[] = [];
    for (const redisChannel of this.dirty) {
      const op = this.pending.get(redisChannel);
      if (this.wanted.has(redisChannel)) {
        if (!this.live.has(redisChannel) && op?.subscribe !== true) subscribe.push(redisChannel);
      } else if (this.onServer.has(redisChannel) && op?.subscribe !== false) {
        unsubscribe.push(redisChannel);
      }
    }
    this.dirty = new Set();
    void this.send(subscribe, unsubscribe, this.epoch).then(() => {
      for (const resolve of waiters) resolve();
    });
  };

  /** Sends the commands grouped as the link requires; resolves with a failed subscribe group, if any. */
  private async send(subscribe: readonly string[], unsubscribe: readonly string[], epoch: number): Promise<string[] | undefined> {
    const groups = this.link.group(subscribe);
    const commands: Array<Promise<boolean>> = [];
    for (const group of this.link.group(unsubscribe)) commands.push(this.command(false, group, epoch));
    for (const group of groups) commands.push(this.command(true, group, epoch));
    if (commands.length === 0) return undefined;
    const results = await Promise.all(commands);
    const offset = results.length - groups.length;
    const failed = groups.find((_, i) => !results[offset + i]);
    // A failed unsubscribe alone leaves no group to probe, but the round still failed.
    if (failed === undefined && !results.every(Boolean)) return [];
    return failed;
  }

  private async command(subscribe: boolean, group: readonly string[], epoch: number, restoring = false): Promise<boolean> {
    const op = new Op(subscribe, epoch);
    for (const redisChannel of group) {
      this.pending.set(redisChannel, op);
      if (subscribe) this.onServer.add(redisChannel);
    }
    try {
      await (subscribe ? this.link.subscribe(group) : this.link.unsubscribe(group));
    } catch (error) {
      for (const redisChannel of group) if (this.pending.get(redisChannel) === op) this.pending.delete(redisChannel);
      // While resyncing the failure is reported by resync's result instead, and a
      // failed restore leaves its channels lost for the next attempt.
      if (!restoring && this.active && epoch === this.epoch) this.onCommandFailed(error, subscribe ? group : []);
      return false;
    }
    const restored: string[] = [];
    for (const redisChannel of group) {
      // A later command for the channel (or a suspension) supersedes this reply.
      if (this.pending.get(redisChannel) !== op) continue;
      this.pending.delete(redisChannel);
      if (!subscribe) {
        if (!this.wanted.has(redisChannel)) this.onServer.delete(redisChannel);
      } else if (this.wanted.has(redisChannel)) {
        this.live.add(redisChannel);
        if (this.lost.delete(redisChannel)) restored.push(redisChannel);
        // During a resync the broker still drops publications: the caller is told
        // "live" only once they flow (in `resume`), or it would miss some for good.
        if (this.active) this.settle(redisChannel);
      }
    }
    if (restored.length > 0) this.onRestored(restored);
    return epoch === this.epoch;
  }

  private settle(redisChannel: string): void {
    const list = this.waiters.get(redisChannel);
    if (!list) return;
    this.waiters.delete(redisChannel);
    for (const waiter of list) waiter.resolve();
  }

  private releaseFlushWaiters(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
