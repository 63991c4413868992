/**
 * One channel subscription as the application sees it: handlers by event type, the last
 * seq seen (sent back as `since` after every reconnect), duplicate dropping, and the
 * counters load tests read. The client owns the wire side (commands, replies, retries).
 */
import { compareSeq, type Envelope } from '@herald/protocol';
import { Emitter } from './emitter.js';
import type { HeraldError } from './errors.js';
import type { EventMap, EventOf, HeraldEvent, HeraldEventMap } from './events.js';

/**
 * - `subscribing`: waiting for the server's `subscribed` (also while the client is
 *   disconnected: it resubscribes on the next connection);
 * - `subscribed`: confirmed on the current connection;
 * - `unsubscribed`: `unsubscribe()` was called; terminal;
 * - `failed`: the server refused it for good (forbidden, invalid channel, too many
 *   subscriptions); terminal, see the `error` event.
 */
export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed';

export interface SubscribedInfo {
  channel: string;
  /** The `since` sent with this subscribe, if any. */
  since: string | undefined;
  /** Server: every event after `since` was still in history and is being delivered. */
  recovered: boolean;
  /** Server: how many events after `since` it is replaying. */
  missed: number;
  /** True from the second `subscribed` on (after a reconnect or a retry). */
  resubscribed: boolean;
}

export interface ContinuityLostInfo {
  channel: string;
  /** The `since` the server could not recover from. */
  since: string | undefined;
  message: string;
}

export interface SubscriptionStats {
  /** Events handed to the application. */
  received: number;
  /** Events dropped because their seq was not after the last seq seen. */
  duplicates: number;
  /** `subscribed` replies received (1 + resubscriptions). */
  subscribes: number;
  /** Sum of `missed` over recovered resubscriptions. */
  recovered: number;
  /** `continuity-lost` notices. */
  continuityLost: number;
  /** Subscription errors (refusals, timeouts, rate limits). */
  errors: number;
}

/** Names with a meaning of their own; an event type spelled like one reaches only `event` handlers. */
export const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set(['event', 'subscribed', 'unsubscribed', 'error', 'continuity-lost']);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers are typed by `on()`'s signature
type AnyHandler = (...args: any[]) => void;

type ReservedName = 'event' | 'subscribed' | 'unsubscribed' | 'error' | 'continuity-lost';

interface ControlEvents {
  subscribed: [info: SubscribedInfo];
  unsubscribed: [];
  error: [error: HeraldError];
  'continuity-lost': [info: ContinuityLostInfo];
  event: [event: HeraldEvent];
}

/** Handlers of the names with a meaning of their own. */
export type ControlHandlers = { [K in keyof ControlEvents]: (...args: ControlEvents[K]) => void };

/** Event types of map `M` that `sub.on()` accepts (reserved names excluded). */
export type EventName<M extends EventMap> = Exclude<keyof M & string, ReservedName>;

/** Every name `sub.on()` accepts, with its handler type. */
export type SubscriptionHandlers<M extends EventMap> = ControlHandlers & {
  [K in EventName<M>]: (event: EventOf<M, K>) => void;
};

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  unsubscribe(subscription: Subscription<EventMap>): Promise<void>;
}

export class Subscription<M extends EventMap = HeraldEventMap> {
  readonly channel: string;
  private currentState: SubscriptionState = 'subscribing';
  private last: string | undefined;
  // Keyed by name only: the public `on()` signature carries the types.
  private readonly control = new Emitter<Record<string, unknown[]>>();
  private readonly typed = new Emitter<Record<string, [HeraldEvent]>>();
  private readonly counters: SubscriptionStats = {
    received: 0,
    duplicates: 0,
    subscribes: 0,
    recovered: 0,
    continuityLost: 0,
    errors: 0,
  };

  /** @internal Id of the subscribe command in flight. */
  pendingId: string | undefined = undefined;
  /** @internal The `since` sent with the last subscribe. */
  sentSince: string | undefined = undefined;
  /** @internal Consecutive transient failures, for the retry backoff. */
  retryAttempt = 0;

  /** @internal Use `client.subscribe()`. */
  constructor(
    channel: string,
    since: string | undefined,
    private readonly host: SubscriptionHost,
  ) {
    this.channel = channel;
    this.last = since;
  }

  get state(): SubscriptionState {
    return this.currentState;
  }

  /** The last seq delivered (or the `since` given at creation): the resume point. */
  get lastSeq(): string | undefined {
    return this.last;
  }

  /** A snapshot of the counters. */
  get stats(): Readonly<SubscriptionStats> {
    return { ...this.counters };
  }

  /**
   * Adds a handler; returns a function that removes it. Names: `subscribed`,
   * `unsubscribed`, `error`, `continuity-lost`, `event` (every event), or an event type
   * of the map (`payment.created`), whose handler gets the typed event.
   */
  on<K extends keyof ControlHandlers>(type: K, handler: ControlHandlers[K]): () => void;
  on<K extends EventName<M>>(type: K, handler: (event: EventOf<M, K>) => void): () => void;
  on(type: string, handler: AnyHandler): () => void {
    return RESERVED_EVENT_NAMES.has(type) ? this.control.on(type, handler) : this.typed.on(type, handler);
  }

  once<K extends keyof ControlHandlers>(type: K, handler: ControlHandlers[K]): () => void;
  once<K extends EventName<M>>(type: K, handler: (event: EventOf<M, K>) => void): () => void;
  once(type: string, handler: AnyHandler): () => void {
    return RESERVED_EVENT_NAMES.has(type) ? this.control.once(type, handler) : this.typed.once(type, handler);
  }

  off<K extends keyof ControlHandlers>(type: K, handler: ControlHandlers[K]): void;
  off<K extends EventName<M>>(type: K, handler: (event: EventOf<M, K>) => void): void;
  off(type: string, handler: AnyHandler): void {
    if (RESERVED_EVENT_NAMES.has(type)) this.control.off(type, handler);
    else this.typed.off(type, handler);
  }

  /**
   * Leaves the channel: no more events are delivered from now on. Resolves when the
   * server confirms, or at once when not connected. Never rejects.
   */
  unsubscribe(): Promise<void> {
    return this.host.unsubscribe(this as Subscription<EventMap>);
  }

  // ---- Called by the client ------------------------------------------------------

  /** @internal Delivers one event unless its seq is not after the last one seen. */
  deliver(envelope: Envelope): void {
    const last = this.last;
    if (last !== undefined && compareSeq(envelope.seq, last) <= 0) {
      this.counters.duplicates++;
      return;
    }
    this.last = envelope.seq;
    this.counters.received++;
    const event = envelope as HeraldEvent;
    this.emitControl('event', event);
    if (!RESERVED_EVENT_NAMES.has(event.type)) this.typed.emit(event.type, event);
  }

  private emitControl<K extends keyof ControlEvents>(type: K, ...args: ControlEvents[K]): void {
    this.control.emit(type, ...args);
  }

  /** @internal */
  setState(state: SubscriptionState): void {
    this.currentState = state;
  }

  /** @internal */
  confirmed(recovered: boolean, missed: number): void {
    const resubscribed = this.counters.subscribes > 0;
    this.counters.subscribes++;
    if (recovered) this.counters.recovered += missed;
    this.retryAttempt = 0;
    this.currentState = 'subscribed';
    this.emitControl('subscribed', { channel: this.channel, since: this.sentSince, recovered, missed, resubscribed });
  }

  /** @internal */
  continuityLost(message: string): void {
    this.counters.continuityLost++;
    this.emitControl('continuity-lost', { channel: this.channel, since: this.sentSince, message });
  }

  /** @internal */
  failed(error: HeraldError, terminal: boolean): void {
    this.counters.errors++;
    if (terminal) this.currentState = 'failed';
    this.emitControl('error', error);
  }

  /** @internal */
  ended(): void {
    this.currentState = 'unsubscribed';
    this.emitControl('unsubscribed');
  }
}
