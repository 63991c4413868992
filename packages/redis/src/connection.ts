/**
 * Where Redis is: one Redis by URL (REDIS_URL), or a Redis Cluster by seed nodes
 * (REDIS_CLUSTER_NODES, REDIS_PASSWORD). Everything else about a client follows from
 * its role (clients.ts).
 */
import type { ClusterNode } from 'ioredis';

export type RedisConnectionOptions =
  | { readonly url: string }
  | {
      /** `host:port` strings (REDIS_CLUSTER_NODES split on commas) or objects. */
      readonly clusterNodes: ReadonlyArray<string | { host: string; port: number }>;
      readonly username?: string;
      readonly password?: string;
    };

/** `host:port`, `redis://[user:pass@]host:port` or `{host, port}` -> ClusterNode. */
export function parseClusterNodes(nodes: ReadonlyArray<string | { host: string; port: number }>): ClusterNode[] {
  if (nodes.length === 0) throw new TypeError('Redis Cluster needs at least one node');
  return nodes.map((node) => {
    if (typeof node !== 'string') return { host: node.host, port: node.port };
    const text = node.trim();
    const url = new URL(text.includes('://') ? text : `redis://${text}`);
    const port = url.port === '' ? 6379 : Number(url.port);
    if (url.hostname === '' || !Number.isInteger(port) || port <= 0 || port > 65_535) {
      throw new TypeError(`invalid Redis Cluster node ${JSON.stringify(node)}: expected host:port`);
    }
    // IPv6 literals come back bracketed from URL.
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  });
}
