/**
 * A log-linear latency histogram (about 1% relative precision from 1 us to hours),
 * cheap to record into and to merge across processes (sparse [index, count] pairs).
 */
const SUB = 100; // buckets per power of two... relative step 2^(1/100) ~ 0.7%
const SIZE = 48 * SUB;

export class Histogram {
  constructor() {
    this.counts = new Float64Array(SIZE);
    this.total = 0;
    this.max = 0;
    this.min = Infinity;
  }

  /** Records a value in microseconds. */
  record(us) {
    const v = us < 1 ? 1 : us;
    let i = Math.floor(Math.log2(v) * SUB);
    if (i >= SIZE) i = SIZE - 1;
    this.counts[i] += 1;
    this.total += 1;
    if (us > this.max) this.max = us;
    if (us < this.min) this.min = us;
  }

  /** Sparse form for IPC, then reset. */
  drain() {
    const pairs = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i] > 0) pairs.push(i, this.counts[i]);
    const out = { pairs, total: this.total, max: this.max, min: this.min };
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
    this.min = Infinity;
    return out;
  }

  merge(sparse) {
    for (let k = 0; k < sparse.pairs.length; k += 2) this.counts[sparse.pairs[k]] += sparse.pairs[k + 1];
    this.total += sparse.total;
    if (sparse.max > this.max) this.max = sparse.max;
    if (sparse.min < this.min) this.min = sparse.min;
  }

  /** The value (us) at quantile q (0..1): the bucket's upper edge, capped at max. */
  quantile(q) {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(2 ** ((i + 1) / SUB), this.max);
    }
    return this.max;
  }

  /** Summary in milliseconds. */
  summaryMs() {
    const ms = (us) => Math.round(us) / 1000;
    return {
      count: this.total,
      min: this.total ? ms(this.min) : null,
      p50: this.total ? ms(this.quantile(0.5)) : null,
      p90: this.total ? ms(this.quantile(0.9)) : null,
      p99: this.total ? ms(this.quantile(0.99)) : null,
      p999: this.total ? ms(this.quantile(0.999)) : null,
      max: this.total ? ms(this.max) : null,
    };
  }
}
