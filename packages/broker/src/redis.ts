/**
 * `@herald/broker/redis`: the Redis engines (one Redis, and Redis Cluster with sharded
 * pub/sub). A separate entry point so that the memory engine does not load ioredis.
 * Connections, keys and slots are @herald/redis's; they are re-exported here for the
 * broker's users (tests and tools that read the broker's keys).
 */
export { RedisBroker, type RedisBrokerOptions, type RedisClient } from './redis/broker-redis.js';
export { createRedisBroker, type CreateRedisBrokerOptions } from './redis/factory.js';
export { parseClusterNodes, type RedisConnectionOptions, KeyLayout, DEFAULT_KEY_PREFIX, keySlot } from '@herald/redis';
export type { BrokerLogger } from './redis/logger.js';
