/**
 * Wiring, in one place per mode: which Broker and Admission a process uses. The services receive them; they never construct them.
 */
import type { Admission } from '@herald/admission';
import { MemoryAdmission } from '@herald/admission';
import { MemoryBroker, type Broker, type RetentionOptions } from '@herald/broker';
import type { EventPublisher } from '@herald/ingest';
import { ConfigError, type HeraldConfig, type Logger, type Service } from '@herald/runtime';

export interface Components {
  broker: Broker;
  admission: Admission;
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

/** `herald start`: everything in this process's memory. */
export function memoryComponents(config: HeraldConfig): Components {
  return {
    broker: new MemoryBroker({ retention: retentionFromConfig(config) }),
    admission: new MemoryAdmission(admissionLimits(config)),
    close: async () => {},
  };
}

export function checkRedisConfigured(config: HeraldConfig): void {
  if (config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES.length === 0) {
    throw new ConfigError('REDIS_URL', 'REDIS_URL or REDIS_CLUSTER_NODES is required for herald edge and herald ingest (herald start runs without Redis)');
  }
}

/** `herald edge` / `herald ingest`: shared state in Redis or a Redis Cluster. */
export async function redisComponents(config: HeraldConfig, nodeId: string, logger: Logger, services: readonly Service[]): Promise<Components> {
  checkRedisConfigured(config);
  const { createRedisComponents } = await import('./components-redis.js');
  return createRedisComponents(config, nodeId, logger, services);
}
