/**
 * The broker conformance suite on a real 3-master Redis Cluster with sharded pub/sub
 * (one cluster for the file, a key prefix of its own for every test).
 */
import { afterAll, beforeAll } from 'vitest';
import { createRedisClient, whenReady, type RedisClient } from '@herald/redis';
import { brokerConformance } from './conformance.js';
import { createRedisBroker, type RedisBroker } from '../src/redis.js';
import { deleteKeys, startRedisCluster, uniquePrefix, type RedisClusterHandle } from '../../../test/support/redis.js';

let cluster: RedisClusterHandle;
let admin: RedisClient;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  admin = createRedisClient({ clusterNodes: cluster.startupNodes }, 'commands', { name: 'conformance-admin' });
  await whenReady(admin, 10_000);
});

afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

brokerConformance(
  'redis-cluster',
  async () => {
    const keyPrefix = uniquePrefix('conf');
    const created: RedisBroker[] = [];
    return {
      async create(retention) {
        const broker = createRedisBroker({ clusterNodes: cluster.startupNodes }, { keyPrefix, retention });
        created.push(broker);
        return broker;
      },
      async cleanup() {
        await Promise.all(created.map((broker) => broker.stop()));
        await deleteKeys(admin, `${keyPrefix}:*`);
      },
    };
  },
  { timeoutMs: 20_000 },
);
