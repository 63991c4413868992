/**
 * The broker conformance suite on one real Redis (one redis-server for the file,
 * a key prefix of its own for every test).
 */
import { afterAll, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import { brokerConformance } from '@herald/broker/conformance';
import { createRedisBroker, type RedisBroker } from '@herald/broker/redis';
import { deleteKeys, startRedis, uniquePrefix, type RedisServer } from './support/redis.js';

let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
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
