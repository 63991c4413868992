/**
 * What every mode's wiring shares: the parts a process is given, and the broker and
 * admission settings derived from the configuration. Apart from components.ts, so the
 * Redis wiring (loaded lazily from there) does not import its loader back.
 */
import type { Admission, Revocations } from '@herald/admission';
import type { Broker, RetentionOptions } from '@herald/broker';
import type { EventPublisher } from '@herald/ingest';
import type { HeraldConfig } from '@herald/runtime';

export interface Components {
  broker: Broker;
  admission: Admission;
  /** Token revocations (PROTOCOL.md section 11): the ingest revokes, every edge enforces. */
  revocations: Revocations;
  /** Starts reading the Redis ingest stream, where there is one. */
  startIngestStream?(publisher: EventPublisher): Promise<void>;
  /** Closes what the components opened besides the broker and admission. */
  close(): Promise<void>;
}

const TEN_MINUTES = 10 * 60_000;

export function retentionFromConfig(config: HeraldConfig): RetentionOptions {
  return {
    historySize: config.HISTORY_SIZE,
    historyTtlMs: config.HISTORY_TTL,
    historyMetaTtlMs: Math.max(config.HISTORY_META_TTL, config.HISTORY_TTL),
    // The broker's per-channel dedupe covers retries of an attempt that failed half-way;
    // it ends well before the event-level record so an expired id publishes again.
    dedupeTtlMs: Math.min(Math.floor(config.IDEMPOTENCY_TTL / 2), Math.max(config.HISTORY_TTL, TEN_MINUTES)),
    eventTtlMs: config.IDEMPOTENCY_TTL,
  };
}

export function admissionLimits(config: HeraldConfig): { maxConnections: number | null; maxConnectionsPerUser: number | null } {
  return { maxConnections: config.MAX_CONNECTIONS, maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER };
}
