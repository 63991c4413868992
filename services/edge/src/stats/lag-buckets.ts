/**
 * The bucket bounds of the console's lag histograms, shared by the edge (which counts
 * into them) and the console page (which adds the nodes' counts together): the same
 * bounds on both sides make the cluster's p50/p99 exact to a bucket, where averaging
 * the nodes' percentiles would not be. Pure: no Node and no DOM API.
 *
 * Bucket i holds lags up to `LAG_BOUNDS_MS[i]` (and above the previous bound); the last
 * bucket holds everything longer. Each bound is 25% above the previous one, from 0.1 ms
 * to about a minute: 60 bounds and one overflow bucket (61), so a percentile is off by
 * at most a quarter.
 */

function bounds(): number[] {
  const result: number[] = [];
  for (let bound = 0.1; bound < 60_000; bound *= 1.25) result.push(Number(bound.toPrecision(3)));
  return result;
}

export const LAG_BOUNDS_MS: readonly number[] = bounds();

/** The last index: lags above the largest bound. */
export const LAG_OVERFLOW_BUCKET = LAG_BOUNDS_MS.length;

/** Index of the bucket a lag falls into (binary search over the bounds). */
export function lagBucket(lagMs: number): number {
  let low = 0;
  let high = LAG_BOUNDS_MS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (lagMs <= LAG_BOUNDS_MS[middle]!) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Non-zero buckets as `[index, count]` pairs: what a stats message carries. */
export type SparseBuckets = ReadonlyArray<readonly [number, number]>;

/**
 * The `q` quantile (0 < q <= 1) of sparse bucket counts, as the upper bound of the bucket
 * that holds it (the overflow bucket answers the largest bound); undefined when empty.
 */
export function quantileMs(buckets: SparseBuckets, q: number): number | undefined {
  let total = 0;
  for (const [, count] of buckets) total += count;
  if (total === 0) return undefined;
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [index, count] of sorted) {
    seen += count;
    if (seen >= rank) return LAG_BOUNDS_MS[Math.min(index, LAG_BOUNDS_MS.length - 1)];
  }
  return LAG_BOUNDS_MS[LAG_BOUNDS_MS.length - 1];
}
