/**
 * The command side of one client: subscriptions (which outlive connections), commands
 * in flight with their reply timeouts, transient-refusal retries, and the client-side
 * rate pacing. The client tells it when a connection starts (`connectionOpened`) and
 * ends (`connectionLost`); it asks the client to drop a connection that stopped
 * answering (`abandon`).
 */
import { CloseCode, type Command } from '@herald/protocol';
import { backoffDelay } from './backoff.js';
import { Timer } from './clock.js';
import { HeraldError } from './errors.js';
import type { EventMap } from './events.js';
import type { ResolvedOptions } from './options.js';
import { CommandPacer } from './pacer.js';
import type { Pending, PendingInit } from './pending.js';
import type { Subscription } from './subscription.js';

export interface CommandsHost {
  /** True while a connection is open (its `connected` frame arrived). */
  isOpen(): boolean;
  /** Writes one command on the current connection, in its format. */
  write(command: Command): void;
  /** Drops the current connection and reconnects. */
  abandon(code: number, reason: string): void;
}

export class Commands {
  readonly subscriptions = new Map<string, Subscription<EventMap>>();
  readonly pending = new Map<string, Pending>();
  private readonly retryTimers = new Map<string, Timer>();
  private readonly pacer: CommandPacer<Command>;
  private seq = 0;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly host: CommandsHost,
  ) {
    this.pacer = new CommandPacer<Command>(options.maxCommandsPerSecond, options.timers, (command) => host.write(command));
  }

  get queued(): number {
    return this.pacer.queued;
  }

  /** A new connection is open: fresh rate bucket, every subscription sent again. */
  connectionOpened(): void {
    this.pacer.reset();
    for (const sub of this.subscriptions.values()) this.subscribe(sub);
  }

  /** The connection is gone: nothing in flight survives it; subscriptions wait for the next. */
  connectionLost(): void {
    this.pacer.clear();
    for (const timer of this.retryTimers.values()) timer.stop();
    this.retryTimers.clear();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) {
      entry.timer.stop();
      if (entry.kind === 'unsubscribe') entry.resolve();
      else if (entry.kind === 'ping' || entry.kind === 'refresh') entry.reject(new HeraldError('transport', 'Connection lost before the reply'));
    }
    for (const sub of this.subscriptions.values()) {
      sub.pendingId = undefined;
      if (sub.state === 'subscribed') sub.setState('subscribing');
    }
  }

  add(sub: Subscription<EventMap>): void {
    this.subscriptions.set(sub.channel, sub);
    this.subscribe(sub);
  }

  /** Sends `subscribe` with `since` = the last seq delivered, unless one is in flight. */
  subscribe(sub: Subscription<EventMap>): void {
    if (sub.pendingId !== undefined || !this.host.isOpen()) return;
    this.stopRetry(sub.channel);
    const id = this.nextId();
    const since = sub.lastSeq;
    sub.pendingId = id;
    sub.sentSince = since;
    sub.setState('subscribing');
    const data = since === undefined ? { channel: sub.channel } : { channel: sub.channel, since };
    this.send(id, { type: 'subscribe', id, data }, { kind: 'subscribe', subscription: sub });
  }

  unsubscribe(sub: Subscription<EventMap>): Promise<void> {
    if (this.subscriptions.get(sub.channel) !== sub) return Promise.resolve();
    this.subscriptions.delete(sub.channel);
    this.stopRetry(sub.channel);
    sub.pendingId = undefined;
    sub.ended();
    if (!this.host.isOpen()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const id = this.nextId();
      this.send(id, { type: 'unsubscribe', id, data: { channel: sub.channel } }, { kind: 'unsubscribe', resolve });
    });
  }

  /** Forgets a subscription the server refused for good. */
  drop(sub: Subscription<EventMap>): void {
    if (this.subscriptions.get(sub.channel) === sub) this.subscriptions.delete(sub.channel);
    this.stopRetry(sub.channel);
  }

  ping(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const id = this.nextId();
      this.send(id, { type: 'ping', id }, { kind: 'ping', resolve, reject });
    });
  }

  /** `refresh` with a new token; resolves with the new `expiresAt` (PROTOCOL.md section 11). */
  refresh(token: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const id = this.nextId();
      this.send(id, { type: 'refresh', id, data: { token } }, { kind: 'refresh', resolve, reject });
    });
  }

  /** A heartbeat ping: its pong only counts as activity, nothing waits for it. */
  heartbeatPing(): void {
    this.pacer.send({ type: 'ping', id: this.nextId() });
  }

  /** A transient refusal (rate-limited, internal): subscribe again after a jittered delay. */
  retry(sub: Subscription<EventMap>): void {
    const delay = backoffDelay(this.options.backoff, sub.retryAttempt++, this.options.random);
    let timer = this.retryTimers.get(sub.channel);
    if (!timer) {
      timer = new Timer(this.options.timers, () => {
        this.retryTimers.delete(sub.channel);
        if (this.subscriptions.get(sub.channel) === sub) this.subscribe(sub);
      });
      this.retryTimers.set(sub.channel, timer);
    }
    timer.start(delay);
  }

  private nextId(): string {
    return `c${++this.seq}`;
  }

  private send(id: string, command: Command, init: PendingInit): void {
    const entry = { ...init, sentAt: 0, timer: new Timer(this.options.timers, () => this.timedOut(id)) } as Pending;
    this.pending.set(id, entry);
    // The reply timeout starts when the pacer actually writes the command.
    this.pacer.send(command, () => {
      entry.sentAt = this.options.timers.now();
      entry.timer.start(this.options.commandTimeout);
    });
  }

  private timedOut(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    const message = `No reply to command ${id} within ${this.options.commandTimeout} ms`;
    if (entry.kind === 'unsubscribe') {
      entry.resolve();
    } else if (entry.kind === 'ping' || entry.kind === 'refresh') {
      entry.reject(new HeraldError('timeout', message, { replyTo: id }));
    } else {
      const sub = entry.subscription;
      if (this.subscriptions.get(sub.channel) !== sub) return;
      sub.pendingId = undefined;
      sub.failed(new HeraldError('timeout', message, { replyTo: id, channel: sub.channel }), false);
      // The server answers every command; silence means the connection cannot be trusted.
      this.host.abandon(CloseCode.Abnormal, 'subscribe timeout');
    }
  }

  private stopRetry(channel: string): void {
    this.retryTimers.get(channel)?.stop();
    this.retryTimers.delete(channel);
  }
}
