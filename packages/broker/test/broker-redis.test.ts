/**
 * The broker conformance suite on one real Redis (one redis-server for the file,
 * a key prefix of its own for every test).
 */
import { afterAll, beforeAll } from 'vitest';
import { createRedisClient, whenReady, type RedisClient } from '@herald/redis';
import { brokerConformance } from './conformance.js';
import { createRedisBroker, type RedisBroker } from '../src/redis.js';
import { deleteKeys, startRedis, uniquePrefix, type RedisServer } from '../../../test/support/redis.js';

let redis: RedisServer;
let admin: RedisClient;

beforeAll(async () => {
  redis = await startRedis();
  admin = createRedisClient({ url: redis.url }, 'commands', { name: 'conformance-admin' });
  await whenReady(admin, 10_000);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

brokerConformance('redis', async () => {
  const keyPrefix = uniquePrefix('conf');
  const created: RedisBroker[] = [];
  return {
    async create(retention) {
      const broker = createRedisBroker({ url: redis.url }, { keyPrefix, retention });
      created.push(broker);
      return broker;
    },
    async cleanup() {
      await Promise.all(created.map((broker) => broker.stop()));
      await deleteKeys(admin, `${keyPrefix}:*`);
    },
  };
});
