/**
 * Where Redis is: one Redis by URL (REDIS_URL), or a Redis Cluster by seed nodes
 * (REDIS_CLUSTER_NODES, REDIS_PASSWORD), and whether it is reached over TLS
 * (PROTOCOL.md section 12). Everything else about a client follows from its role
 * (clients.ts).
 */
import type { ConnectionOptions as TlsConnectOptions } from 'node:tls';
import type { ClusterNode } from 'ioredis';

/** How Herald checks a Redis server's certificate. */
export interface RedisTlsOptions {
  /** PEM CA certificate(s) that sign the servers' certificates (REDIS_TLS_CA_FILE); default: Node's public CAs. */
  readonly ca?: string | Buffer;
  /**
   * The name the certificate must carry, also sent as SNI (REDIS_TLS_SERVERNAME);
   * default: the host connected to, which for cluster nodes learned from the slot map
   * is usually an IP address.
   */
  readonly servername?: string;
}

export type RedisConnectionOptions =
  | {
      /** `redis://` or `rediss://` (TLS). */
      readonly url: string;
      /** Certificate checks of a `rediss://` URL; refused with a `redis://` one. */
      readonly tls?: RedisTlsOptions;
    }
  | {
      /** `host:port` strings (REDIS_CLUSTER_NODES split on commas) or objects. */
      readonly clusterNodes: ReadonlyArray<string | { host: string; port: number }>;
      readonly username?: string;
      readonly password?: string;
      /** Present: every node connection is TLS (REDIS_TLS=true). */
      readonly tls?: RedisTlsOptions;
    };

/**
 * The options of `tls.connect` for this connection, or undefined for plaintext. A
 * `redis://` URL with TLS options is refused rather than sent in plaintext: whoever
 * gave a CA meant TLS.
 */
export function tlsConnectOptions(connection: RedisConnectionOptions): TlsConnectOptions | undefined {
  const tls = connection.tls;
  if ('url' in connection) {
    const secure = /^rediss:\/\//i.test(connection.url);
    if (!secure && tls !== undefined) throw new TypeError('TLS options were given for a redis:// URL: use rediss:// to reach Redis over TLS');
    if (!secure) return undefined;
  } else if (tls === undefined) {
    return undefined;
  }
  return {
    // Never turned off: a certificate that does not check out is a refused connection.
    rejectUnauthorized: true,
    ca: tls?.ca,
    servername: tls?.servername,
  };
}

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
