/**
 * The one place that asks whether a client is one Redis or a Cluster; everything else
 * goes through the RedisTopology it returns.
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from './clients.js';
import type { RedisTopology } from './topology.js';
import { ClusterTopology } from './topology-cluster.js';
import { StandaloneTopology } from './topology-standalone.js';

/** The topology of a command client (one Redis or a Cluster). */
export function topologyOf(client: RedisClient): RedisTopology {
  return client instanceof Cluster ? new ClusterTopology(client) : new StandaloneTopology(client);
}
