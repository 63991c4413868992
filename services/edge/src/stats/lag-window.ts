/**
 * Publish-to-deliver lag over the last stats interval: a fixed array of counts (the
 * buckets of lag-buckets.ts), so memory stays the same whatever the event rate, and
 * observing is one binary search and an increment on the fan-out path.
 */
import { LAG_BOUNDS_MS, lagBucket, quantileMs, type SparseBuckets } from './lag-buckets.js';

export interface LagSummary {
  /** Events observed in the interval. */
  readonly count: number;
  /** Undefined when no event was observed. */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** The non-zero buckets, for the console to merge nodes exactly. */
  readonly buckets: SparseBuckets;
}

export class LagWindow {
  private counts = new Uint32Array(LAG_BOUNDS_MS.length + 1);
  private total = 0;

  observe(lagMs: number): void {
    this.counts[lagBucket(lagMs)]! += 1;
    this.total += 1;
  }

  /** What was observed since the last call; the window starts empty again. */
  take(): LagSummary {
    const buckets: Array<[number, number]> = [];
    if (this.total > 0) {
      for (let index = 0; index < this.counts.length; index += 1) {
        const count = this.counts[index]!;
        if (count > 0) buckets.push([index, count]);
      }
      this.counts.fill(0);
    }
    const count = this.total;
    this.total = 0;
    return { count, p50Ms: quantileMs(buckets, 0.5), p99Ms: quantileMs(buckets, 0.99), buckets };
  }
}
