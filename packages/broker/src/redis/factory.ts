/**
 * Builds a Redis broker and its two clients from connection settings: the one place
 * where ioredis options are chosen for Herald.
 *
 * - Command client: no offline queue and no resending after a reconnection, plus a
 *   command timeout, so that publish/history/position fail fast with
 *   BrokerUnavailableError while Redis is unreachable (ingest answers 503 and the
 *   producer retries) instead of queueing.
 * - Subscriber client: no automatic resubscription; the broker resubscribes itself
 *   so that it knows when every channel is live again.
 * - Both are lazy: nothing connects before `start()`.
 */
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RetentionOptions } from '../broker.js';
import { RedisBroker } from './broker-redis.js';
import type { BrokerLogger } from './logger.js';

export type RedisConnectionOptions =
  | { readonly url: string }
  | {
      /** `host:port` strings (REDIS_CLUSTER_NODES split on commas) or objects. */
      readonly clusterNodes: ReadonlyArray<string | { host: string; port: number }>;
      readonly username?: string;
      readonly password?: string;
    };

export interface CreateRedisBrokerOptions {
  keyPrefix?: string;
  retention?: Partial<RetentionOptions>;
  logger?: BrokerLogger;
  /** Per-command timeout of the command client (default 2000 ms). */
  commandTimeoutMs?: number;
  /** Upper bound of one broker operation (default 3000 ms). */
  operationTimeoutMs?: number;
  /** How long start() waits for Redis (default 10000 ms). */
  startTimeoutMs?: number;
  /** Shown in CLIENT LIST (default `herald`). */
  connectionName?: string;
}

/** Reconnect quickly at first, then every 2 s at most. */
function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
}

export function createRedisBroker(connection: RedisConnectionOptions, options: CreateRedisBrokerOptions = {}): RedisBroker {
  const name = options.connectionName ?? 'herald';
  const commandTimeout = options.commandTimeoutMs ?? 2_000;
  const common: RedisOptions = {
    lazyConnect: true,
    keepAlive: 10_000,
    retryStrategy: retryDelay,
    autoResendUnfulfilledCommands: false,
  };
  const commandOptions: RedisOptions = {
    ...common,
    connectionName: `${name}-broker`,
    enableOfflineQueue: false,
    commandTimeout,
    maxRetriesPerRequest: 0,
  };
  const subscriberOptions: RedisOptions = {
    ...common,
    connectionName: `${name}-broker-sub`,
    autoResubscribe: false,
  };

  let client: Redis | Cluster;
  let subscriber: Redis | Cluster;
  if ('url' in connection) {
    client = new Redis(connection.url, commandOptions);
    subscriber = new Redis(connection.url, subscriberOptions);
  } else {
    const nodes = parseClusterNodes(connection.clusterNodes);
    const auth: RedisOptions = {};
    if (connection.username !== undefined) auth.username = connection.username;
    if (connection.password !== undefined) auth.password = connection.password;
    const cluster: ClusterOptions = {
      lazyConnect: true,
      clusterRetryStrategy: retryDelay,
      // MOVED/ASK and failovers are retried by ioredis, bounded by the broker's deadline.
      retryDelayOnFailover: 100,
    };
    client = new Cluster(nodes, {
      ...cluster,
      enableOfflineQueue: false,
      redisOptions: { ...auth, keepAlive: 10_000, commandTimeout, connectionName: `${name}-broker`, autoResendUnfulfilledCommands: false },
    });
    // ioredis >= 5.6 runs sharded pub/sub on one connection per master only with
    // this flag; without it SSUBSCRIBE goes to one random node and misses messages.
    subscriber = new Cluster(nodes, {
      ...cluster,
      shardedSubscribers: true,
      redisOptions: { ...auth, keepAlive: 10_000, connectionName: `${name}-broker-sub` },
    });
  }
  const broker = new RedisBroker({
    client,
    subscriber,
    keyPrefix: options.keyPrefix,
    retention: options.retention,
    logger: options.logger,
    operationTimeoutMs: options.operationTimeoutMs,
    startTimeoutMs: options.startTimeoutMs,
    closeClientsOnStop: true,
  });
  return broker;
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
