/**
 * Inbound frames, decoded by the connection's codec into their JSON shape (both formats
 * alike): events to their subscription (duplicates dropped there), replies to the
 * command they answer (by `replyTo`), errors to the subscription, the command or the
 * client. Unknown frame types are ignored, so a newer server can add some.
 */
import { Problem, type ConnectedFrame, type Envelope, type ErrorFrame, type SubscribedFrame } from '@herald/protocol';
import { HeraldError } from './errors.js';
import type { EventMap } from './events.js';
import type { Commands } from './commands.js';
import type { Pending } from './pending.js';
import type { Subscription } from './subscription.js';

export interface RouterHost {
  readonly commands: Commands;
  onConnected(data: Partial<ConnectedFrame['data']>): void;
  onUnrouted(): void;
  emitError(error: HeraldError): void;
  now(): number;
}

/**
 * Refusals that will not change by asking again on this connection: the subscription
 * fails for good. Anything else (rate-limited, internal, unknown) is retried with backoff.
 */
const TERMINAL_PROBLEMS: ReadonlySet<string> = new Set([
  Problem.forbidden.type,
  Problem.invalidChannel.type,
  Problem.invalidMessage.type,
  Problem.unknownType.type,
  Problem.tooManySubscriptions.type,
]);

interface FrameFields {
  type?: unknown;
  channel?: unknown;
  seq?: unknown;
  replyTo?: unknown;
  data?: unknown;
  error?: unknown;
}

export class FrameRouter {
  private readonly subscriptions: ReadonlyMap<string, Subscription<EventMap>>;
  private readonly pending: Map<string, Pending>;

  constructor(private readonly host: RouterHost) {
    this.subscriptions = host.commands.subscriptions;
    this.pending = host.commands.pending;
  }

  handle(decoded: unknown): void {
    if (typeof decoded !== 'object' || decoded === null) return;
    const frame = decoded as FrameFields;
    // Events first: they are the hot path, and the only frames with a seq.
    if (typeof frame.seq === 'string' && typeof frame.channel === 'string') {
      const subscription = this.subscriptions.get(frame.channel);
      if (subscription) subscription.deliver(frame as Envelope);
      else this.host.onUnrouted();
      return;
    }
    switch (frame.type) {
      case 'connected':
        this.host.onConnected(isObject(frame.data) ? (frame.data as Partial<ConnectedFrame['data']>) : {});
        return;
      case 'subscribed':
        this.subscribed(frame as unknown as SubscribedFrame);
        return;
      case 'unsubscribed':
        // Without replyTo: the server dropped the channel (a refresh narrowed the grants).
        if (frame.replyTo === undefined && isObject(frame.data) && typeof frame.data.channel === 'string') this.dropped(frame.data.channel, frame.data.reason);
        else this.reply(frame);
        return;
      case 'pong':
      case 'refreshed':
        this.reply(frame);
        return;
      case 'error':
        this.error(frame as unknown as ErrorFrame);
        return;
      default:
        return;
    }
  }

  private take(replyTo: unknown): Pending | undefined {
    if (typeof replyTo !== 'string') return undefined;
    const entry = this.pending.get(replyTo);
    if (entry) {
      this.pending.delete(replyTo);
      entry.timer.stop();
    }
    return entry;
  }

  private subscribed(frame: SubscribedFrame): void {
    const data = isObject(frame.data) ? frame.data : undefined;
    let entry = this.take(frame.replyTo);
    if (!entry && data && typeof data.channel === 'string') {
      // No replyTo: match the channel's command in flight, if any.
      const pendingId = this.subscriptions.get(data.channel)?.pendingId;
      entry = pendingId === undefined ? undefined : this.take(pendingId);
    }
    if (entry?.kind !== 'subscribe') return;
    const subscription = entry.subscription;
    subscription.pendingId = undefined;
    if (this.subscriptions.get(subscription.channel) !== subscription) return; // unsubscribed meanwhile
    subscription.confirmed(data?.recovered === true, typeof data?.missed === 'number' ? data.missed : 0);
  }

  private reply(frame: FrameFields): void {
    const entry = this.take(frame.replyTo);
    if (!entry) return;
    if (entry.kind === 'unsubscribe') entry.resolve();
    else if (entry.kind === 'ping') entry.resolve(this.host.now() - entry.sentAt);
    else if (entry.kind === 'refresh') {
      const data = isObject(frame.data) ? frame.data : {};
      entry.resolve(typeof data.expiresAt === 'string' ? data.expiresAt : undefined);
    }
  }

  /** A channel the server left on its own: terminal for the subscription, as a refused subscribe is. */
  private dropped(channel: string, reason: unknown): void {
    const subscription = this.subscriptions.get(channel);
    if (!subscription) return;
    this.host.commands.drop(subscription);
    const message = reason === 'forbidden' ? `The refreshed token no longer grants ${channel}` : `The server ended the subscription to ${channel}`;
    subscription.failed(new HeraldError('problem', message, { problemType: reason === 'forbidden' ? Problem.forbidden.type : undefined, channel }), true);
  }

  private error(frame: ErrorFrame): void {
    const problem = isObject(frame.error) ? frame.error : { type: undefined, message: undefined };
    const problemType = typeof problem.type === 'string' ? problem.type : undefined;
    const message = typeof problem.message === 'string' ? problem.message : 'Server error';
    const channel = typeof frame.channel === 'string' ? frame.channel : undefined;

    if (problemType === Problem.continuityLost.type && channel !== undefined) {
      // Not a failure of the subscribe: `subscribed` (recovered: false) comes with it.
      this.subscriptions.get(channel)?.continuityLost(message);
      return;
    }
    const entry = this.take(frame.replyTo);
    const subscription = entry?.kind === 'subscribe' ? entry.subscription : channel === undefined ? undefined : this.subscriptions.get(channel);
    const error = new HeraldError('problem', message, {
      problemType,
      channel: channel ?? subscription?.channel,
      replyTo: typeof frame.replyTo === 'string' ? frame.replyTo : undefined,
    });
    if (entry?.kind === 'unsubscribe') {
      entry.resolve(); // the client already forgot the channel
      return;
    }
    if (entry?.kind === 'ping' || entry?.kind === 'refresh') {
      entry.reject(error);
      return;
    }
    if (!subscription || this.subscriptions.get(subscription.channel) !== subscription) {
      // About the connection itself (unauthorized, reach-maximum-connections...) or a
      // channel the client has left.
      if (!entry) this.host.emitError(error);
      return;
    }
    if (entry) {
      subscription.pendingId = undefined;
      const terminal = problemType !== undefined && TERMINAL_PROBLEMS.has(problemType);
      if (terminal) this.host.commands.drop(subscription);
      subscription.failed(error, terminal);
      if (!terminal) this.host.commands.retry(subscription);
      return;
    }
    subscription.failed(error, false);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
