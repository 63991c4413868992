/**
 * The state behind the in-memory broker: per-channel history with the same retention
 * rules as the Redis engine (size cap, age cap, expiry after the last publish, a
 * remembered top seq), and the set of broker instances subscribed to each channel.
 * Several MemoryBroker instances may share one store, like nodes sharing one Redis.
 */
import { compareSeq } from '@herald/protocol';
import { ORIGIN_SEQ, type EventPublishRequest, type EventPublishResult, type HistoryResult, type Publication, type RetentionOptions } from './broker.js';

interface ChannelLog {
  /** Retained publications, oldest first, starting at `head`. */
  entries: Publication[];
  head: number;
  topMs: number;
  topN: number;
  top: string;
  /** Lowest `since` from which the retained entries are complete. */
  floor: string;
  /** The first seq of this log (it began without a known position): see ORIGIN_SEQ. */
  origin: string;
  lastPublishAt: number;
}

export interface PublicationSink {
  deliver(channel: string, seq: string, envelope: Buffer): void;
}

/**
 * Event ids remembered at most: past it the oldest are forgotten first (a very old id
 * could then publish again). For the full window at high rates, use Redis.
 */
const MAX_EVENT_IDS = 1_000_000;

export class MemoryBrokerStore {
  private readonly logs = new Map<string, ChannelLog>();
  /** event id -> channels and expiry; insertion order = expiry order (one window). */
  private readonly events = new Map<string, { channels: readonly string[]; expiresAt: number }>();
  private readonly subscribers = new Map<string, Set<PublicationSink>>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly retention: RetentionOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the periodic sweep of expired channels; idempotent. */
  startSweeping(intervalMs = 5_000): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweep(), intervalMs);
    this.sweepTimer.unref();
  }

  stopSweeping(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Appends one publication to the channel and hands it to its subscribers; returns its seq. */
  private publish(channel: string, head: string, tail: string): string {
    const now = this.now();
    let log = this.current(channel, now);
    let seq: string;
    if (!log) {
      seq = `${now}-0`;
      log = { entries: [], head: 0, topMs: now, topN: 0, top: seq, floor: seq, origin: seq, lastPublishAt: now };
      this.logs.set(channel, log);
    } else {
      if (now > log.topMs) {
        log.topMs = now;
        log.topN = 0;
      } else {
        log.topN += 1;
      }
      seq = `${log.topMs}-${log.topN}`;
      log.top = seq;
      log.lastPublishAt = now;
    }
    const envelope = Buffer.from(head + seq + tail);
    log.entries.push({ seq, envelope });
    this.trimToSize(log);
    const sinks = this.subscribers.get(channel);
    if (sinks) for (const sink of sinks) sink.deliver(channel, seq, envelope);
    return seq;
  }

  /** Publishes the event to each of its channels unless its id is known. Synchronous, so atomic. */
  publishEvent(event: EventPublishRequest): EventPublishResult {
    const now = this.now();
    this.forgetEvents(now);
    const known = this.events.get(event.id);
    if (known && known.expiresAt > now) return { duplicate: true, channels: known.channels };
    // No per-channel dedupe: this step is synchronous, so the event's record alone
    // keeps an id from publishing twice.
    for (const { channel, template } of event.requests) this.publish(channel, template.head, template.tail);
    const channels = event.requests.map((request) => request.channel);
    this.events.delete(event.id);
    this.events.set(event.id, { channels, expiresAt: now + (event.idTtlMs ?? this.retention.eventTtlMs) });
    return { duplicate: false, channels };
  }

  /** Event ids remembered (for tests). */
  get eventCount(): number {
    return this.events.size;
  }

  history(channel: string, since: string): HistoryResult {
    const log = this.current(channel, this.now());
    if (!log) return { complete: false, reason: 'unknown-channel' };
    if (compareSeq(since, log.top) > 0) return { complete: false, reason: 'future-seq' };
    // From the origin: whole while the log still holds its first event (entries leave oldest first).
    if (since === ORIGIN_SEQ && log.entries.length > log.head && log.entries[log.head]!.seq === log.origin) {
      return { complete: true, publications: log.entries.slice(log.head) };
    }
    if (compareSeq(since, log.floor) < 0) {
      return { complete: false, reason: log.entries.length > log.head ? 'trimmed' : 'expired' };
    }
    const publications: Publication[] = [];
    // Entries are sorted: walk back from the newest until `since`.
    let start = log.entries.length;
    while (start > log.head && compareSeq(log.entries[start - 1]!.seq, since) > 0) start -= 1;
    for (let i = start; i < log.entries.length; i++) publications.push(log.entries[i]!);
    return { complete: true, publications };
  }

  position(channel: string): string | undefined {
    return this.current(channel, this.now())?.top;
  }

  addSubscriber(channel: string, sink: PublicationSink): void {
    let set = this.subscribers.get(channel);
    if (!set) this.subscribers.set(channel, (set = new Set()));
    set.add(sink);
  }

  removeSubscriber(channel: string, sink: PublicationSink): void {
    const set = this.subscribers.get(channel);
    if (!set) return;
    set.delete(sink);
    if (set.size === 0) this.subscribers.delete(channel);
  }

  /** Channels known to the store (for tests and metrics). */
  get channelCount(): number {
    return this.logs.size;
  }

  /** Drops what has expired everywhere; also runs lazily on every access. */
  sweep(): void {
    const now = this.now();
    for (const channel of this.logs.keys()) this.current(channel, now);
    this.forgetEvents(now);
  }

  private forgetEvents(now: number): void {
    for (const [id, record] of this.events) {
      if (record.expiresAt > now && this.events.size <= MAX_EVENT_IDS) break;
      this.events.delete(id);
    }
  }

  /** The channel's log with expiry applied, or undefined when it is forgotten. */
  private current(channel: string, now: number): ChannelLog | undefined {
    const log = this.logs.get(channel);
    if (!log) return undefined;
    const idle = now - log.lastPublishAt;
    if (idle >= this.retention.historyMetaTtlMs) {
      this.logs.delete(channel);
      return undefined;
    }
    if (idle >= this.retention.historyTtlMs) {
      // The whole history expired; only the position survives.
      log.entries = [];
      log.head = 0;
      log.floor = log.top;
    } else {
      this.trimByAge(log, now - this.retention.historyTtlMs);
    }
    return log;
  }

  private trimToSize(log: ChannelLog): void {
    const excess = log.entries.length - log.head - this.retention.historySize;
    if (excess > 0) this.dropOldest(log, excess);
  }

  private trimByAge(log: ChannelLog, oldestAllowedMs: number): void {
    let count = 0;
    for (let i = log.head; i < log.entries.length; i++) {
      const seq = log.entries[i]!.seq;
      if (Number(seq.slice(0, seq.indexOf('-'))) >= oldestAllowedMs) break;
      count += 1;
    }
    if (count > 0) this.dropOldest(log, count);
  }

  private dropOldest(log: ChannelLog, count: number): void {
    log.head += count;
    // The last dropped entry is now the lowest position history is complete from.
    log.floor = log.entries[log.head - 1]!.seq;
    // Compact once the dead prefix outweighs the live part, so shifting stays amortised O(1).
    if (log.head > 64 && log.head * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.head);
      log.head = 0;
    }
  }
}
