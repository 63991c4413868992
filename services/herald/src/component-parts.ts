/**
 * What every mode's wiring shares: the parts a process is given, and the broker and
 * admission settings read from the configuration. Apart from components.ts, so the
 * Redis wiring (loaded lazily from there) does not import its loader back.
 */
import type { Admission, Revocations } from '@herald/admission';
import type { Broker, RetentionSettings } from '@herald/broker';
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

/** The retention settings of the configuration; the broker derives its windows from them (`retentionOf`). */
export function retentionSettings(config: HeraldConfig): RetentionSettings {
  return {
    historySize: config.HISTORY_SIZE,
    historyTtlMs: config.HISTORY_TTL,
    historyMetaTtlMs: config.HISTORY_META_TTL,
    idempotencyTtlMs: config.IDEMPOTENCY_TTL,
  };
}

export function admissionLimits(config: HeraldConfig): { maxConnections: number | null; maxConnectionsPerUser: number | null } {
  return { maxConnections: config.MAX_CONNECTIONS, maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER };
}
