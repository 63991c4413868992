/**
 * The time and randomness the client uses, injectable so unit tests are deterministic
 * (fake timers, a scripted `random`) and so tests can prove that `close()` leaves no
 * timer behind.
 */

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds since some fixed point; `Date.now` by default. */
  now(): number;
}

export const defaultTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
  now: () => Date.now(),
};

/** One restartable timer on top of `Timers`; the handle is never leaked. */
export class Timer {
  private handle: unknown = undefined;
  private armed = false;

  constructor(
    private readonly timers: Timers,
    private readonly callback: () => void,
  ) {}

  start(ms: number): void {
    this.stop();
    this.armed = true;
    this.handle = this.timers.setTimeout(this.fire, Math.max(0, ms));
  }

  stop(): void {
    if (!this.armed) return;
    this.armed = false;
    this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  get active(): boolean {
    return this.armed;
  }

  private readonly fire = (): void => {
    this.armed = false;
    this.handle = undefined;
    this.callback();
  };
}
