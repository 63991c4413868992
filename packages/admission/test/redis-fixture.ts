/**
 * The conformance fixture of the Redis engine, on one Redis or a Cluster: each node is a
 * RedisAdmission with a `commands` client of its own (as `herald edge` makes it), all
 * of one fixture under one fresh key prefix.
 */
import { closeClient, createRedisClient, whenReady, type RedisClient, type RedisConnectionOptions } from '@herald/redis';
import { RedisAdmission } from '../src/redis.js';
import type { Admission } from '../src/admission.js';
import type { AdmissionFixture } from './conformance.js';
import { deleteKeys, uniquePrefix } from '../../../test/support/redis.js';

/** Short enough for the lease case to finish in seconds; renewed every second. */
export const LEASE_MS = 3_000;

export function redisAdmissionFixture(connection: RedisConnectionOptions, admin: RedisClient): AdmissionFixture {
  const keyPrefix = uniquePrefix('admission-conf');
  const nodes = new Map<Admission, RedisClient>();
  let made = 0;
  return {
    async node(limits) {
      // Taken before any await: nodes made together get distinct ids.
      const nodeId = `node-${(made += 1)}`;
      const client = createRedisClient(connection, 'commands', { name: `${keyPrefix}-${nodeId}` });
      await whenReady(client, 10_000);
      const admission = new RedisAdmission({ client, keyPrefix, nodeId, limits, leaseMs: LEASE_MS, fallbackPerNode: null });
      nodes.set(admission, client);
      await admission.start();
      return admission;
    },
    async crash(node) {
      // The node loses Redis for good, as a killed process does: no leave, no renewal.
      nodes.get(node)!.disconnect();
    },
    async cleanup() {
      await Promise.all(
        [...nodes].map(async ([admission, client]) => {
          await admission.stop();
          await closeClient(client);
        }),
      );
      await deleteKeys(admin, `{${keyPrefix}:admission}*`);
    },
  };
}
