/**
 * Event-level idempotency (IDEMPOTENCY_TTL): an event id seen before is accepted again
 * but not published again. A record is `pending` from the first attempt until every
 * channel has the event, then `done` with its channels. A retry that finds `pending`
 * (an attempt failed or is still running) publishes again: the broker's per-channel
 * dedupe makes that safe, so nothing is published twice and nothing half-published.
 */

export type IdempotencyState =
  | { readonly state: 'new' }
  | { readonly state: 'pending' }
  | { readonly state: 'done'; readonly channels: readonly string[] };

export interface IdempotencyStore {
  /** Claims `id` (as pending) unless it exists; returns what was there. */
  begin(ids: readonly string[]): Promise<IdempotencyState[]>;
  /** Marks `id` done with its channels, for the rest of the TTL. */
  complete(entries: ReadonlyArray<{ id: string; channels: readonly string[] }>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The in-memory store of `herald start`. Bounded: past `maxEntries` the oldest records
 * are forgotten first (a very old id could then publish again); for the full window at
 * high rates, run ingest with Redis.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** Insertion order = age order, so eviction takes from the front. */
  private readonly records = new Map<string, { channels: readonly string[] | undefined; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000_000,
    private readonly now: () => number = Date.now,
  ) {}

  async begin(ids: readonly string[]): Promise<IdempotencyState[]> {
    const now = this.now();
    this.evict(now);
    return ids.map((id) => {
      const record = this.records.get(id);
      if (record && record.expiresAt > now) {
        return record.channels === undefined ? { state: 'pending' } : { state: 'done', channels: record.channels };
      }
      this.records.delete(id);
      this.records.set(id, { channels: undefined, expiresAt: now + this.ttlMs });
      return { state: 'new' };
    });
  }

  async complete(entries: ReadonlyArray<{ id: string; channels: readonly string[] }>): Promise<void> {
    for (const { id, channels } of entries) {
      const record = this.records.get(id);
      if (record) record.channels = channels;
    }
  }

  async stop(): Promise<void> {}

  get size(): number {
    return this.records.size;
  }

  private evict(now: number): void {
    for (const [id, record] of this.records) {
      if (record.expiresAt > now && this.records.size <= this.maxEntries) break;
      this.records.delete(id);
    }
  }
}
