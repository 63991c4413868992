/**
 * Which engines a process runs on, chosen by its mode: the memory engines for `herald
 * start` (components-memory.ts), Redis or a Redis Cluster for `herald edge` and `herald
 * ingest` (components-redis.ts, loaded only then, so that `herald start` never loads
 * ioredis). The two leaves share component-parts.ts and never import each other; the
 * services receive what they build and never construct engines themselves.
 */
import { ConfigError, type HeraldConfig, type Logger, type Service } from '@herald/runtime';
import type { Components } from './component-parts.js';
import { createMemoryComponents } from './components-memory.js';

export { admissionLimits, retentionSettings, type Components } from './component-parts.js';

/** `herald start`: everything in this process's memory. */
export function memoryComponents(config: HeraldConfig): Components {
  return createMemoryComponents(config);
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
