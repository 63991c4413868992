/**
 * Client-side pacing of commands. The server allows MAX_COMMANDS_PER_SECOND (default 50)
 * per connection and answers the excess with `rate-limited`; a client resubscribing 100
 * channels after a reconnect would otherwise lose half of them to that limit. A token
 * bucket of the same shape as the server's (burst = rate, continuous refill), set a
 * little below it, keeps the client under the limit; the server's bucket starts when
 * it accepts the connection, which is always earlier, so it never has fewer tokens.
 */
import { Timer, type Timers } from './clock.js';

interface Queued<T> {
  item: T;
  onSent: (() => void) | undefined;
}

/** `T`: what is written (a command, encoded by the client when it goes out). */
export class CommandPacer<T = string> {
  private tokens: number;
  private updatedAt: number;
  private readonly queue: Queued<T>[] = [];
  private readonly timer: Timer;

  constructor(
    private readonly perSecond: number,
    private readonly timers: Timers,
    private readonly write: (item: T) => void,
  ) {
    this.tokens = perSecond;
    this.updatedAt = timers.now();
    this.timer = new Timer(timers, this.drain);
  }

  /** Starts a fresh bucket for a new connection. */
  reset(): void {
    this.clear();
    this.tokens = this.perSecond;
    this.updatedAt = this.timers.now();
  }

  /** Sends now if the bucket allows, else queues in order; `onSent` runs when written. */
  send(item: T, onSent?: () => void): void {
    if (this.queue.length === 0 && this.take()) {
      this.write(item);
      onSent?.();
      return;
    }
    this.queue.push({ item, onSent });
    if (!this.timer.active) this.timer.start(this.wait());
  }

  /** Drops everything queued (the connection is gone). */
  clear(): void {
    this.queue.length = 0;
    this.timer.stop();
  }

  get queued(): number {
    return this.queue.length;
  }

  private take(): boolean {
    if (!Number.isFinite(this.perSecond)) return true;
    const now = this.timers.now();
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.perSecond, this.tokens + (elapsed * this.perSecond) / 1000);
      this.updatedAt = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until the bucket holds one token. */
  private wait(): number {
    return Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }

  private readonly drain = (): void => {
    while (this.queue.length > 0 && this.take()) {
      const queued = this.queue.shift() as Queued<T>;
      this.write(queued.item);
      queued.onSent?.();
    }
    if (this.queue.length > 0) this.timer.start(this.wait());
  };
}
