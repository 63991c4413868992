/**
 * `@herald/broker/redis`: the Redis engines (one Redis, and Redis Cluster with sharded
 * pub/sub). A separate entry point so that the memory engine does not load ioredis.
 */
export { RedisBroker, type RedisBrokerOptions, type RedisClient } from './redis/broker-redis.js';
export {
  createRedisBroker,
  parseClusterNodes,
  type CreateRedisBrokerOptions,
  type RedisConnectionOptions,
} from './redis/factory.js';
export { KeyLayout, DEFAULT_KEY_PREFIX } from './redis/keys.js';
export { keySlot } from './redis/slot.js';
export type { BrokerLogger } from './redis/logger.js';
