/**
 * The admission conformance suite on one real Redis (one redis-server for the file, a
 * key prefix of its own for every test). Outages and what the engine stores are tested
 * in the repository's test/cluster/admission-redis.test.ts.
 */
import { afterAll, beforeAll } from 'vitest';
import { createRedisClient, whenReady, type RedisClient } from '@herald/redis';
import { admissionConformance } from './conformance.js';
import { LEASE_MS, redisAdmissionFixture } from './redis-fixture.js';
import { startRedis, type RedisServer } from '../../../test/support/redis.js';

let redis: RedisServer;
let admin: RedisClient;

beforeAll(async () => {
  redis = await startRedis();
  admin = createRedisClient({ url: redis.url }, 'commands', { name: 'admission-conformance-admin' });
  await whenReady(admin, 10_000);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

admissionConformance('redis', async () => redisAdmissionFixture({ url: redis.url }, admin), { severalNodes: true, leaseMs: LEASE_MS });
