/**
 * The hub: channel -> local sessions, and the node's broker subscriptions, one per
 * channel with local subscribers (ref-counted by sessions). A publication is framed
 * at most once per format (JSON text, protobuf binary; see event-frames.ts) and the
 * same bytes are queued for every live session of that format.
 *
 * Recovery is here too: a subscribe with `since` joins the live feed first (buffered
 * in the subscription), reads history, and replays it in the session's format before
 * the buffered frames, with no gap and no duplicate between them.
 *
 * After a broker disconnection the hub fills each channel's gap from history, from
 * the last seq it delivered, before live delivery resumes; where history cannot
 * cover the gap, every session of the channel gets `continuity-lost`. The same holds
 * per channel when the broker loses only some channels' feed (a Redis Cluster shard
 * failed, a slot moved): those channels stall and are filled, the others carry on.
 */
import type { Broker, BrokerListener, Publication } from '@herald/broker';
import { Problem, compareSeq, isSystemChannel } from '@herald/protocol';
import type { Logger } from '@herald/runtime';
import type { EdgeMetrics } from './edge-metrics.js';
import { EventFrames, type EventFramesContext, type FramesMade } from './event-frames.js';
import type { FrameSink, Recipient } from './recipient.js';
import { SharedFrame } from './shared-frame.js';
import type { Subscription } from './subscription.js';
import type { WireFormat } from './wire-format.js';

/**
 * What history says about a subscribe with `since`: the events after it (all of them,
 * in order), or that it cannot say (trimmed, expired, unknown: continuity is lost).
 */
export type Recovery = { complete: true; since: string; missed: readonly Publication[] } | { complete: false };

type ChannelState = 'subscribing' | 'live' | 'stale' | 'filling';

class ChannelEntry {
  state: ChannelState = 'subscribing';
  readonly live = new Set<Recipient>();
  /** Sessions recovering or waiting; the hub buffers publications in their subscription. */
  readonly pending = new Map<Recipient, Subscription>();
  /** The last seq this node delivered on the channel. */
  lastSeq: string | undefined = undefined;
  /**
   * The channel's position when this node subscribed (ORIGIN_SEQ if it had none): where
   * a gap fill starts when nothing was delivered before the disconnection.
   */
  joinedAt: string | undefined = undefined;
  /** Publications that arrived while the gap was being filled. */
  fillBuffer: Publication[] = [];
  /** The broker reported this channel's feed lost (onChannelsLost) and not restored yet. */
  feedLost = false;
  /**
   * The broker link went down while the channel was subscribing: events published since
   * the node asked for it may never come live, so it fills from history when it goes live.
   */
  missedWhileSubscribing = false;
  /** Herald's own channel (the console's stats): kept out of the event metrics it reports on. */
  readonly system: boolean;
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(readonly name: string) {
    this.system = isSystemChannel(name);
  }

  whenLive(): Promise<void> {
    if (this.state === 'live') return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  settle(error?: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  get empty(): boolean {
    return this.live.size === 0 && this.pending.size === 0;
  }
}

/** Delay before retrying a failed gap fill while the broker is up. */
const FILL_RETRY_MS = 1_000;
/** Before every seq: the position of a channel that had none yet. */
const ORIGIN_SEQ = '0-0';

export class Hub implements BrokerListener {
  private readonly channels = new Map<string, ChannelEntry>();
  /** Session subscriptions on this node. */
  subscriptionCount = 0;
  /** Event frames made for live fan-out (each shared by every recipient it fits) and for recovery (one session each). */
  readonly framesMade: { readonly live: FramesMade; readonly recovery: FramesMade } = { live: noFrames(), recovery: noFrames() };
  private readonly liveFrames: EventFramesContext;
  private readonly recoveryFrames: EventFramesContext;

  constructor(
    private readonly broker: Broker,
    private readonly outbox: FrameSink,
    private readonly metrics: EdgeMetrics,
    private readonly logger: Logger,
    /** Events at least this long are also sent compressed (Infinity: never). */
    compressionThreshold = Number.POSITIVE_INFINITY,
  ) {
    const unencodable = (format: WireFormat, frames: EventFrames, error: unknown): Buffer => {
      this.logger.error({ err: error, channel: frames.channel, seq: frames.seq, format: format.name }, 'event cannot be encoded in this format');
      return format.error(Problem.internal, `The event at ${frames.seq} could not be encoded as ${format.subprotocol}`, undefined, frames.channel);
    };
    this.liveFrames = { compressionThreshold, made: this.framesMade.live, unencodable };
    // Recovery frames go to one session each and are sent uncompressed.
    this.recoveryFrames = { compressionThreshold: Number.POSITIVE_INFINITY, made: this.framesMade.recovery, unencodable };
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** Why live delivery is not whole, or undefined when every channel is live. */
  notReadyReason(): string | undefined {
    let behind = 0;
    for (const entry of this.channels.values()) if (entry.state === 'stale' || entry.state === 'filling') behind += 1;
    return behind === 0 ? undefined : `${behind} channel(s) are re-establishing their subscription`;
  }

  /**
   * Registers a session's subscription (buffering from now on) and resolves once the
   * node's broker subscription to the channel is live; with `since`, then reads history
   * (live first, then history: no gap between them) and resolves with what it says.
   * Rejects when either fails, or when the subscription left meanwhile.
   */
  async join(recipient: Recipient, subscription: Subscription, since?: string): Promise<Recovery | undefined> {
    let entry = this.channels.get(subscription.channel);
    if (!entry) {
      entry = new ChannelEntry(subscription.channel);
      this.channels.set(entry.name, entry);
      this.subscribeAtBroker(entry);
    }
    entry.pending.set(recipient, subscription);
    this.subscriptionCount += 1;
    await entry.whenLive();
    if (since === undefined) return undefined;
    const history = await this.broker.history(subscription.channel, since);
    if (!history.complete) return { complete: false };
    return { complete: true, since, missed: history.publications.filter((publication) => compareSeq(publication.seq, since) > 0) };
  }

  /**
   * The reply to the subscribe is queued: replay what history recovered (in the
   * session's format), then deliver what was buffered and go live.
   */
  sendRecovery(recipient: Recipient, subscription: Subscription, recovery?: Recovery): void {
    const entry = this.channels.get(subscription.channel);
    if (!entry || entry.pending.get(recipient) !== subscription) return;
    if (recovery?.complete) this.replay(recipient, subscription, recovery);
    if (entry.state !== 'live') {
      subscription.recoverySent = true; // goes live when the channel's gap fill ends
      return;
    }
    this.goLiveWhenCaughtUp(entry, recipient, subscription);
  }

  leave(recipient: Recipient, subscription: Subscription): void {
    const entry = this.channels.get(subscription.channel);
    if (!entry) return;
    if (entry.live.delete(recipient) || entry.pending.delete(recipient)) this.subscriptionCount -= 1;
    subscription.buffer = null;
    if (!entry.empty) return;
    this.channels.delete(entry.name);
    entry.settle(new Error('unsubscribed'));
    this.broker.unsubscribe(entry.name).catch((error: unknown) => {
      this.logger.warn({ err: error, channel: entry.name }, 'broker unsubscribe failed');
    });
  }

  // BrokerListener: the hot path.
  onPublication(channel: string, seq: string, envelope: Buffer): void {
    const entry = this.channels.get(channel);
    if (entry === undefined) return;
    if (entry.state === 'filling') {
      entry.fillBuffer.push({ seq, envelope });
      return;
    }
    this.deliver(entry, seq, envelope);
  }

  onDisconnected(): void {
    for (const entry of this.channels.values()) {
      if (entry.state === 'live' || entry.state === 'filling') entry.state = 'stale';
      else if (entry.state === 'subscribing') entry.missedWhileSubscribing = true;
    }
  }

  onResubscribed(): void {
    for (const entry of this.channels.values()) {
      entry.feedLost = false;
      if (entry.state === 'stale') this.fill(entry);
    }
  }

  onChannelsLost(channels: readonly string[]): void {
    for (const name of channels) {
      const entry = this.channels.get(name);
      if (entry === undefined) continue;
      entry.feedLost = true;
      if (entry.state === 'live' || entry.state === 'filling') entry.state = 'stale';
      else if (entry.state === 'subscribing') entry.missedWhileSubscribing = true;
    }
  }

  onChannelsRestored(channels: readonly string[]): void {
    for (const name of channels) {
      const entry = this.channels.get(name);
      if (entry === undefined) continue;
      entry.feedLost = false;
      if (entry.state === 'stale') this.fill(entry);
    }
  }

  private deliver(entry: ChannelEntry, seq: string, envelope: Buffer): void {
    // The broker is at-most-once and ordered; after a gap fill a live copy may repeat.
    if (entry.lastSeq !== undefined && compareSeq(seq, entry.lastSeq) <= 0) return;
    entry.lastSeq = seq;
    // Framed lazily, once per format (and compression) the recipients need; per
    // recipient this only picks one of the shared frames.
    const frames = new EventFrames(entry.name, seq, envelope, this.liveFrames);
    if (!entry.system) {
      this.metrics.publications += 1;
      this.observeLag(seq, envelope);
      this.metrics.deliveries += entry.live.size;
    }
    for (const recipient of entry.live) this.outbox.enqueue(recipient, frames.for(recipient));
    if (entry.pending.size > 0) {
      for (const [recipient, subscription] of entry.pending) {
        subscription.buffer?.push(frames);
        // A recovered session waiting for the live feed to reach what history gave it.
        const after = subscription.lastSent;
        if (subscription.recoverySent && entry.state === 'live' && (after === undefined || compareSeq(seq, after) >= 0)) this.goLive(entry, recipient, subscription);
      }
    }
  }

  /** History after `since`, in the recipient's format, before anything buffered. */
  private replay(recipient: Recipient, subscription: Subscription, recovery: Recovery & { complete: true }): void {
    subscription.lastSent = recovery.since;
    for (const publication of recovery.missed) {
      const frames = new EventFrames(subscription.channel, publication.seq, publication.envelope, this.recoveryFrames);
      this.outbox.enqueue(recipient, frames.plainFor(recipient));
      subscription.lastSent = publication.seq;
    }
  }

  /**
   * Recovery read history on another broker connection than the live feed, so history
   * can be ahead of it: events up to `lastSent` may still arrive live. Going live now
   * would send them twice; the session keeps buffering until the feed reaches `lastSent`
   * (`deliver` then flushes what is newer).
   */
  private goLiveWhenCaughtUp(entry: ChannelEntry, recipient: Recipient, subscription: Subscription): void {
    const after = subscription.lastSent;
    // Events at or before the channel's position when the node subscribed never come live.
    const reached = entry.lastSeq ?? entry.joinedAt;
    if (after !== undefined && (reached === undefined || compareSeq(after, reached) > 0)) {
      subscription.recoverySent = true;
      return;
    }
    this.goLive(entry, recipient, subscription);
  }

  private goLive(entry: ChannelEntry, recipient: Recipient, subscription: Subscription): void {
    const buffer = subscription.buffer ?? [];
    const after = subscription.lastSent;
    for (const frames of buffer) {
      if (after === undefined || compareSeq(frames.seq, after) > 0) this.outbox.enqueue(recipient, frames.plainFor(recipient));
    }
    subscription.buffer = null;
    subscription.recoverySent = false;
    entry.pending.delete(recipient);
    entry.live.add(recipient);
  }

  private subscribeAtBroker(entry: ChannelEntry): void {
    // Asked while the link is down: the subscription goes live only after it is back.
    if (this.broker.state === 'disconnected') entry.missedWhileSubscribing = true;
    // Sent before the subscribe (flushed on the next turn), so it is never past an event
    // the live feed could miss. Without it, a gap before the first delivery goes unseen.
    this.broker.position(entry.name).then(
      (top) => {
        entry.joinedAt = top ?? ORIGIN_SEQ;
      },
      () => {},
    );
    this.broker.subscribe(entry.name).then(
      () => {
        if (this.channels.get(entry.name) !== entry || entry.state !== 'subscribing') return;
        // Live now, but the link was down since the node asked: what was published
        // meanwhile comes from history first (fill settles the joins when done).
        if (entry.missedWhileSubscribing) {
          entry.missedWhileSubscribing = false;
          this.fill(entry);
          return;
        }
        entry.state = 'live';
        entry.settle();
      },
      (error: unknown) => {
        this.logger.warn({ err: error, channel: entry.name }, 'broker subscribe failed');
        if (this.channels.get(entry.name) === entry) this.channels.delete(entry.name);
        this.subscriptionCount -= entry.pending.size + entry.live.size;
        entry.settle(error);
      },
    );
  }

  private fill(entry: ChannelEntry): void {
    entry.state = 'filling';
    entry.fillBuffer = [];
    // Nothing delivered yet: what was published since the node subscribed is the gap.
    // With no position either (it could not be read: the link was down), the node cannot
    // say the channel had no events then; from the origin, history answers for a channel
    // that began later (all of it), one that never began (nothing missed), or neither
    // (continuity-lost): never silence.
    const since = entry.lastSeq ?? entry.joinedAt ?? ORIGIN_SEQ;
    this.broker.history(entry.name, since).then(
      (result) => {
        if (this.channels.get(entry.name) !== entry || entry.state !== 'filling') return;
        if (result.complete) {
          this.metrics.gapFill('filled');
          this.finishFill(entry, result.publications);
          return;
        }
        if (since === ORIGIN_SEQ && result.reason === 'unknown-channel') {
          // A new channel that is still empty: nothing was missed. (One whose first events
          // came during the gap is complete from the origin: history has all of them.)
          this.finishFill(entry, []);
          return;
        }
        this.metrics.gapFill('continuity-lost');
        this.logger.warn({ channel: entry.name, since, reason: result.reason }, 'gap after reconnection not in history');
        const message = `Events of ${entry.name} after ${since} were missed and are no longer available; resync`;
        const lost = new SharedFrame((format) => format.error(Problem.continuityLost, message, undefined, entry.name));
        for (const recipient of entry.live) this.outbox.enqueue(recipient, lost.for(recipient));
        for (const [recipient, subscription] of entry.pending) if (subscription.recoverySent) this.outbox.enqueue(recipient, lost.for(recipient));
        this.finishFill(entry, []);
      },
      (error: unknown) => {
        if (this.channels.get(entry.name) !== entry || entry.state !== 'filling') return;
        this.logger.warn({ err: error, channel: entry.name }, 'gap fill failed; retrying');
        // What arrived live meanwhile is after lastSeq, so the retried fill reads it again.
        entry.state = 'stale';
        setTimeout(() => {
          // Not while the feed is down: onResubscribed / onChannelsRestored fill it then.
          if (this.channels.get(entry.name) === entry && entry.state === 'stale' && this.broker.state === 'ready' && !entry.feedLost) this.fill(entry);
        }, FILL_RETRY_MS).unref();
      },
    );
  }

  private finishFill(entry: ChannelEntry, publications: readonly Publication[]): void {
    entry.state = 'live';
    const buffered = entry.fillBuffer;
    entry.fillBuffer = [];
    for (const publication of publications) this.deliver(entry, publication.seq, publication.envelope);
    for (const publication of buffered) this.deliver(entry, publication.seq, publication.envelope);
    for (const [recipient, subscription] of entry.pending) {
      if (subscription.recoverySent) this.goLiveWhenCaughtUp(entry, recipient, subscription);
    }
    entry.settle();
  }

  private observeLag(seq: string, envelope: Buffer): void {
    // seq starts with the broker's publish time in ms; the type is the first JSON value.
    const publishedAt = Number(seq.slice(0, seq.indexOf('-')));
    const typeEnd = envelope.indexOf(34 /* " */, 9);
    const type = typeEnd > 9 ? envelope.toString('latin1', 9, typeEnd) : 'unknown';
    this.metrics.observeLag(type, Math.max(0, Date.now() - publishedAt) / 1000);
  }
}

function noFrames(): FramesMade {
  return { json: 0, jsonDeflate: 0, protobuf: 0, protobufDeflate: 0 };
}
