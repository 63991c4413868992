/**
 * The Broker: how edges and ingest processes share events.
 *
 * Delivery contract, for every engine:
 * - `publish` appends the event to the channel's history and hands it to live
 *   subscribers in one atomic step, and resolves with the channel's new `seq`. A
 *   resolved publish is in history: nothing accepted is lost while history retains it.
 * - `seq` is strictly increasing per channel across every publisher of the cluster.
 * - Live delivery is at-most-once and in `seq` order per channel, to every broker
 *   instance subscribed to the channel. It is not reliable on its own: after a
 *   disconnection (`onDisconnected`, then `onResubscribed`) the listener fills the gap
 *   from `history`, which is the source of truth.
 * - `history(channel, since)` returns every retained event after `since`, in order,
 *   and says whether that is *all* events after `since` (`complete`), so a caller can
 *   tell a real gap (continuity lost) from a quiet channel. `since` = ORIGIN_SEQ (the
 *   caller saw the channel with no position: every event of it came later) is complete,
 *   with every event of the channel, while history still holds the first event of the
 *   channel's log (a log begins at the first publish of a channel with no position).
 * - Publishing the same `idempotencyKey` to the same channel again within the dedupe
 *   window publishes nothing and resolves with the first seq (`duplicate: true`).
 * - `publishEvents` publishes each event to all of its channels once per event id
 *   within `eventTtlMs`: a repeated id publishes nothing and resolves with the first
 *   attempt's channels (`duplicate: true`). An event resolves only once every channel
 *   has it; after an Error, retrying the same id completes it without duplicating it
 *   in any channel that already has it.
 */
import type { EnvelopeTemplate } from '@herald/protocol';

/**
 * Before every seq: the position of a channel that had none (new, or forgotten). History
 * from it is the channel's whole log while nothing of the log was dropped.
 */
export const ORIGIN_SEQ = '0-0';

export interface PublishRequest {
  readonly channel: string;
  /** The envelope minus its seq, encoded once by the publisher. */
  readonly template: EnvelopeTemplate;
  /** Per-channel dedupe key, usually the event id. */
  readonly idempotencyKey?: string;
}

export interface PublishResult {
  readonly seq: string;
  /** True when the idempotency key was seen before: nothing was published this time. */
  readonly duplicate: boolean;
}

/** One event for all of its channels (see `Broker.publishEvents`). */
export interface EventPublishRequest {
  /** The event id: the event-level idempotency key. */
  readonly id: string;
  /** One request per target channel, in order; the engine dedupes them by `id`. */
  readonly requests: readonly PublishRequest[];
}

export interface EventPublishResult {
  /** True when the id was published before (within `eventTtlMs`): nothing new was published. */
  readonly duplicate: boolean;
  /** The channels that have the event: for a duplicate, those of the first attempt. */
  readonly channels: readonly string[];
}

/** One event of one channel, as delivered and as kept in history. */
export interface Publication {
  readonly seq: string;
  /** The complete envelope JSON, ready to frame. */
  readonly envelope: Buffer;
}

export type HistoryResult =
  | {
      readonly complete: true;
      /** Events after `since`, in seq order. */
      readonly publications: readonly Publication[];
    }
  | {
      readonly complete: false;
      /** Why events after `since` cannot all be returned. */
      readonly reason: 'unknown-channel' | 'trimmed' | 'expired' | 'future-seq';
    };

/** What a broker tells its owner. One listener per broker instance. */
export interface BrokerListener {
  /** A live publication of a subscribed channel. Must not throw. */
  onPublication(channel: string, seq: string, envelope: Buffer): void;
  /** The backend connection was lost: live delivery has stopped. */
  onDisconnected(): void;
  /**
   * Every subscription is live again after a disconnection. Events published while
   * disconnected were not delivered live: fetch them from history.
   */
  onResubscribed(): void;
  /**
   * Optional: only these channels lost their live feed (on a Redis Cluster, one shard
   * failed or their slots moved to another node); every other channel still delivers
   * and the state stays `ready`. Nothing is delivered for them until
   * `onChannelsRestored`. A listener without these two hooks hears `onDisconnected`
   * and `onResubscribed` instead.
   */
  onChannelsLost?(channels: readonly string[]): void;
  /**
   * Optional: these channels, reported by `onChannelsLost`, are live again. Events
   * published meanwhile were not delivered live: fetch them from history.
   */
  onChannelsRestored?(channels: readonly string[]): void;
}

export type BrokerState = 'connecting' | 'ready' | 'disconnected' | 'closed';

export interface Broker {
  /** Engine name for logs and metrics: `memory`, `redis`, `redis-cluster`. */
  readonly kind: string;
  /** Connects and starts delivering to the listener. */
  start(listener: BrokerListener): Promise<void>;
  /** Closes connections; pending operations fail. */
  stop(): Promise<void>;
  /**
   * Ready: connected and every subscription is live, except channels reported by
   * `onChannelsLost` and not restored yet.
   */
  readonly state: BrokerState;

  publish(request: PublishRequest): Promise<PublishResult>;
  /** Publishes several events in one round trip where the engine can; results in order. */
  publishBatch(requests: readonly PublishRequest[]): Promise<Array<PublishResult | Error>>;
  /**
   * Publishes events to their channels with event-level idempotency, in as few round
   * trips as the engine can; one result per event, in order. An id repeated inside one
   * call publishes once (the later ones are duplicates).
   */
  publishEvents(events: readonly EventPublishRequest[]): Promise<Array<EventPublishResult | Error>>;

  /** Resolves once live publications of the channel reach the listener. */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;

  history(channel: string, since: string): Promise<HistoryResult>;

  /**
   * The channel's newest seq (its top), or undefined when the channel has no known
   * position. Remembered for HISTORY_META_TTL even after the events expired.
   */
  position(channel: string): Promise<string | undefined>;
}

/** Retention settings shared by every engine. */
export interface RetentionOptions {
  /** Events kept per channel (HISTORY_SIZE). */
  historySize: number;
  /** How long events are kept (HISTORY_TTL). */
  historyTtlMs: number;
  /**
   * How long a channel's position (its top seq) is remembered after its history
   * expired, so that a client of a quiet channel can still resume without a gap.
   */
  historyMetaTtlMs: number;
  /** Per-channel idempotency window. */
  dedupeTtlMs: number;
  /**
   * Event-level idempotency window of `publishEvents` (IDEMPOTENCY_TTL). Longer than
   * `dedupeTtlMs`, which only has to cover the retries of an attempt that failed.
   */
  eventTtlMs: number;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  historySize: 1000,
  historyTtlMs: 10 * 60_000,
  historyMetaTtlMs: 30 * 24 * 3_600_000,
  dedupeTtlMs: 10 * 60_000,
  eventTtlMs: 24 * 3_600_000,
};

export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
}
