/**
 * Wiring, in one place per mode: which Broker and Admission a process uses. The services receive them; they never construct them.
 */
import { MemoryAdmission, MemoryRevocations } from '@herald/admission';
import { MemoryBroker } from '@herald/broker';
import { ConfigError, type HeraldConfig, type Logger, type Service } from '@herald/runtime';
import { admissionLimits, retentionSettings, type Components } from './component-parts.js';

export { admissionLimits, retentionSettings, type Components } from './component-parts.js';

/** `herald start`: everything in this process's memory. */
export function memoryComponents(config: HeraldConfig): Components {
  return {
    broker: new MemoryBroker({ retention: retentionSettings(config) }),
    admission: new MemoryAdmission(admissionLimits(config)),
    revocations: new MemoryRevocations(),
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
