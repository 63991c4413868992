/**
 * The broker conformance suite on a real 3-master Redis Cluster with sharded pub/sub
 * (one cluster for the file, a key prefix of its own for every test).
 */
import { afterAll, beforeAll } from 'vitest';
import { Cluster } from 'ioredis';
import { brokerConformance } from '@herald/broker/conformance';
import { createRedisBroker, type RedisBroker } from '@herald/broker/redis';
import { deleteKeys, startRedisCluster, uniquePrefix, type RedisClusterHandle } from './support/redis.js';

let cluster: RedisClusterHandle;
let admin: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  admin = new Cluster([...cluster.startupNodes]);
  admin.on('error', () => undefined);
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
