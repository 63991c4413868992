/**
 * The Broker: how edges and ingest processes share events. Every engine (memory, one
 * Redis, Redis Cluster) keeps the promises written on each member of `Broker` below;
 * the conformance suite (packages/broker/test/conformance.ts) checks them on each.
 *
 * Across the methods:
 * - One entry publishes: `publishEvents`. An event goes to all of its channels, once per
 *   event id; each publication gets the channel's next `seq` and is in history before
 *   the call resolves.
 * - `seq` is strictly increasing per channel across every publisher of the cluster.
 * - Live delivery is at-most-once and in `seq` order per channel, to every broker
 *   instance subscribed to the channel. It is not reliable on its own: after a
 *   disconnection (`onDisconnected`, then `onResubscribed`) the listener fills the gap
 *   from `history`, which is the source of truth.
 * - Every envelope is the same bytes live and from history.
 */
import type { EnvelopeTemplate } from '@herald/protocol';

// The engines' windows live in retention.ts; also exported here, beside the types the
// engines' parts import from this file.
export { DEFAULT_RETENTION, type RetentionOptions } from './retention.js';

/**
 * Before every seq: the position of a channel that had none (new, or forgotten). History
 * from it is the channel's whole log while nothing of the log was dropped.
 */
export const ORIGIN_SEQ = '0-0';

/** One channel of an event (see `EventPublishRequest.requests`). */
export interface PublishRequest {
  readonly channel: string;
  /** The envelope minus its seq, encoded once by the publisher. */
  readonly template: EnvelopeTemplate;
  /**
   * Engine-internal: the per-channel dedupe key an engine gives a publication (the Redis
   * Cluster path sets the event id, so that a retry does not publish a channel twice).
   * `publishEvents` ignores what a caller sets here: it dedupes by the event id.
   */
  readonly idempotencyKey?: string;
}

/** One event for all of its channels (see `Broker.publishEvents`). */
export interface EventPublishRequest {
  /** The event id: the event-level idempotency key. */
  readonly id: string;
  /** One request per target channel, in order; the engine dedupes them by `id`. */
  readonly requests: readonly PublishRequest[];
  /**
   * How long the id is remembered, when not the broker's `eventTtlMs` (IDEMPOTENCY_TTL).
   * A publisher whose only retries are its own, within seconds (a node's stats every
   * second), passes a short window so that its ids do not pile up in the backend for a
   * day.
   */
  readonly idTtlMs?: number;
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
  /**
   * Connects and starts delivering to the listener. Resolves once the broker is `ready`;
   * rejects with BrokerUnavailableError when the backend cannot be reached in time.
   */
  start(listener: BrokerListener): Promise<void>;
  /**
   * Closes the broker: nothing is delivered any more, and a later publishEvents,
   * subscribe, history or position rejects with BrokerUnavailableError instead of being
   * dropped silently. The state is `closed`.
   */
  stop(): Promise<void>;
  /**
   * Ready: connected and every subscription is live, except channels reported by
   * `onChannelsLost` and not restored yet.
   */
  readonly state: BrokerState;

  /**
   * Publishes events to their channels, in as few round trips as the engine can; one
   * result per event, in order: an Error for an event that failed (BrokerUnavailableError
   * when the backend could not be reached: retry the event), which may be every event of
   * the call.
   *
   * - An event resolves only once every one of its channels has it: each publication is
   *   appended to the channel's history and handed to live subscribers in one atomic
   *   step, with the channel's next `seq`. Nothing accepted is lost while history
   *   retains it.
   * - Once per event id within `eventTtlMs` (the event's `idTtlMs` when it sets one; an
   *   engine may remember it longer): a repeated id publishes nothing and resolves
   *   with the first attempt's channels (`duplicate: true`), even when it names other
   *   channels. An id repeated inside one call publishes once (the later ones are
   *   duplicates).
   * - After an Error, retrying the same id completes the event without duplicating it in
   *   any channel that already has it.
   * - The events of one call keep their order in each channel.
   */
  publishEvents(events: readonly EventPublishRequest[]): Promise<Array<EventPublishResult | Error>>;

  /**
   * Resolves once live publications of the channel reach the listener (while
   * disconnected, once the channel is live again).
   */
  subscribe(channel: string): Promise<void>;
  /**
   * Stops live delivery of the channel to this instance. Of subscribe and unsubscribe
   * calls made together (not awaited one by one), the last one wins.
   */
  unsubscribe(channel: string): Promise<void>;

  /**
   * Every retained event of the channel after `since`, in seq order, and whether that is
   * *all* events after `since` (`complete`), so a caller can tell a real gap (continuity
   * lost) from a quiet channel. Incomplete says why: `unknown-channel` (no position),
   * `future-seq` (`since` above the top), `trimmed` (events after `since` left history,
   * by size or by age, while newer ones remain), `expired` (no event is retained any
   * more: only a caller already at the top is complete). `since` = ORIGIN_SEQ (the
   * caller saw the channel with no position: every event of it came later) is complete,
   * with every event of the channel, while history still holds the first event of the
   * channel's log (a log begins at the first publication of a channel with no position).
   */
  history(channel: string, since: string): Promise<HistoryResult>;

  /**
   * The channel's newest seq (its top), or undefined when the channel has no known
   * position. Remembered for HISTORY_META_TTL even after the events expired, and a
   * later publication continues above it.
   */
  position(channel: string): Promise<string | undefined>;
}

export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
}
