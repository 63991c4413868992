/**
 * Event-level idempotency in Redis, shared by every ingest process: one key per event
 * id, claimed with `SET NX` and kept for IDEMPOTENCY_TTL. The value is `p` while the
 * event is being published, then the JSON array of its channels.
 */
import type { Cluster, Redis } from 'ioredis';
import type { IdempotencyState, IdempotencyStore } from './idempotency.js';

const PENDING = 'p';

export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    /** A client with auto-pipelining: the calls of one batch share a round trip. */
    private readonly client: Redis | Cluster,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  async begin(ids: readonly string[]): Promise<IdempotencyState[]> {
    // SET NX GET (Redis 7): claims the id and returns what was there, in one command.
    const previous = await Promise.all(ids.map((id) => this.client.set(this.key(id), PENDING, 'PX', this.ttlMs, 'NX', 'GET')));
    return previous.map((value): IdempotencyState => {
      if (value === null) return { state: 'new' };
      if (value === PENDING) return { state: 'pending' };
      try {
        return { state: 'done', channels: JSON.parse(value) as string[] };
      } catch {
        return { state: 'pending' };
      }
    });
  }

  async complete(entries: ReadonlyArray<{ id: string; channels: readonly string[] }>): Promise<void> {
    await Promise.all(entries.map(({ id, channels }) => this.client.set(this.key(id), JSON.stringify(channels), 'KEEPTTL', 'XX')));
  }

  async stop(): Promise<void> {}

  private key(id: string): string {
    return `${this.keyPrefix}:idem:${id}`;
  }
}
