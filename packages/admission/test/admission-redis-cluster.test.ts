/**
 * The admission conformance suite on a real 3-master Redis Cluster (one cluster for the
 * file, a key prefix of its own for every test). Every admission key of a prefix shares
 * one hash tag, so the scripts run on the master of that one slot.
 */
import { afterAll, beforeAll } from 'vitest';
import { createRedisClient, whenReady, type RedisClient } from '@herald/redis';
import { admissionConformance } from './conformance.js';
import { LEASE_MS, redisAdmissionFixture } from './redis-fixture.js';
import { startRedisCluster, type RedisClusterHandle } from '../../../test/support/redis.js';

let cluster: RedisClusterHandle;
let admin: RedisClient;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  admin = createRedisClient({ clusterNodes: cluster.startupNodes }, 'commands', { name: 'admission-conformance-admin' });
  await whenReady(admin, 10_000);
});

afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

admissionConformance('redis-cluster', async () => redisAdmissionFixture({ clusterNodes: cluster.startupNodes }, admin), {
  severalNodes: true,
  leaseMs: LEASE_MS,
  timeoutMs: 20_000,
});
