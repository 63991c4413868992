/**
 * Timers for tests: `TrackingTimers` runs on the real clock but counts live timers (so a
 * test can prove nothing is left behind) and records every delay asked for;
 * `ManualTimers` is a fake clock driven by `advance()`.
 */
import type { Timers } from '../src/clock.js';

export class TrackingTimers implements Timers {
  readonly delays: number[] = [];
  private readonly live = new Set<ReturnType<typeof setTimeout>>();

  /** `scale` shrinks real waits (0 runs every timer on the next macrotask). */
  constructor(private readonly scale = 1) {}

  setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    const handle = setTimeout(() => {
      this.live.delete(handle);
      callback();
    }, ms * this.scale);
    this.live.add(handle);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
    this.live.delete(handle as ReturnType<typeof setTimeout>);
  }

  now(): number {
    return Date.now();
  }

  get active(): number {
    return this.live.size;
  }
}

interface Scheduled {
  id: number;
  at: number;
  callback: () => void;
}

export class ManualTimers implements Timers {
  private time = 0;
  private seq = 0;
  private scheduled: Scheduled[] = [];

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.scheduled.push({ id, at: this.time + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.scheduled = this.scheduled.filter((entry) => entry.id !== handle);
  }

  now(): number {
    return this.time;
  }

  get active(): number {
    return this.scheduled.length;
  }

  /** Moves the clock forward, running due timers in time order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.scheduled.filter((entry) => entry.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.scheduled = this.scheduled.filter((entry) => entry !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }
}

/** `random` returning the given values in turn (then repeating the last). */
export function sequenceRandom(values: number[]): () => number {
  let index = 0;
  return () => values[Math.min(index++, values.length - 1)] as number;
}
