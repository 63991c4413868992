/**
 * The one place where Herald chooses ioredis options. A client is made for a role, and
 * the role decides how it behaves while Redis is unreachable:
 *
 * - `commands` (the broker's publish/history/position, admission): no offline queue,
 *   a command timeout, no resending after a reconnection. A call fails fast while
 *   Redis is down (ingest answers 503, admission admits alone) instead of queueing, and
 *   a call that may have run is never sent twice behind the caller's back.
 * - `subscriber` (the broker's pub/sub): no automatic resubscription on one Redis, the
 *   broker resubscribes itself so that it knows when every channel is live again; on a
 *   cluster `shardedSubscribers`, one subscriber connection per master.
 * - `blocking` (the ingest stream's XREADGROUP BLOCK, which holds its connection): a
 *   queue and no command timeout.
 *
 * Every client reconnects in the background (quickly at first, then every 2 s), and has
 * an `error` handler from birth: an ioredis client without one crashes the process on
 * the first refused connection. Clients are lazy: nothing connects before `whenReady`
 * or the first command.
 *
 * TLS (`rediss://`, or `tls` for a cluster) applies to every connection a client makes,
 * a cluster's node and subscriber connections included; a certificate that does not
 * check out is an error like a refused connection, never a fallback to plaintext.
 */
import type { EventEmitter } from 'node:events';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { type RedisConnectionOptions, parseClusterNodes, tlsConnectOptions } from './connection.js';
import { RedisTimeoutError } from './deadline.js';

export type RedisClient = Redis | Cluster;

export type ClientRole = 'commands' | 'subscriber' | 'blocking';

/** The part of a pino logger the Redis layer uses. */
export interface RedisLogger {
  warn(data: object, message: string): void;
}

export interface RedisClientOptions {
  /** CLIENT SETNAME, shown in CLIENT LIST: `<node id>-<role>`. */
  name: string;
  /** Per-command timeout of a `commands` client (default 2000 ms). */
  commandTimeoutMs?: number;
  /** Where client errors go (rate-limited); without it they are swallowed. */
  logger?: RedisLogger;
}

/** Reconnect quickly at first, then every 2 s at most. */
function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
}

/** Options of one Redis connection (or of each node connection of a cluster) per role. */
function connectionOptions(role: ClientRole, options: RedisClientOptions): RedisOptions {
  const common: RedisOptions = { connectionName: options.name, keepAlive: 10_000, autoResendUnfulfilledCommands: false };
  switch (role) {
    case 'commands':
      return { ...common, commandTimeout: options.commandTimeoutMs ?? 2_000 };
    case 'subscriber':
      return common;
    case 'blocking':
      return { ...common, autoResendUnfulfilledCommands: true };
  }
}

/** Creates a client for `role`; see the file comment. */
export function createRedisClient(connection: RedisConnectionOptions, role: ClientRole, options: RedisClientOptions): RedisClient {
  const perConnection = connectionOptions(role, options);
  const tls = tlsConnectOptions(connection);
  let client: RedisClient;
  if ('url' in connection) {
    client = new Redis(connection.url, {
      ...perConnection,
      tls,
      lazyConnect: true,
      retryStrategy: retryDelay,
      enableOfflineQueue: role !== 'commands',
      maxRetriesPerRequest: role === 'subscriber' ? 20 : 0,
      ...(role === 'subscriber' ? { autoResubscribe: false } : {}),
    });
  } else {
    // What every node connection shares, the subscriber's included: credentials and TLS.
    const shared: RedisOptions = {};
    if (connection.username !== undefined) shared.username = connection.username;
    if (connection.password !== undefined) shared.password = connection.password;
    if (tls !== undefined) shared.tls = tls;
    const cluster: ClusterOptions = {
      lazyConnect: true,
      clusterRetryStrategy: retryDelay,
      // MOVED/ASK and failovers are followed by ioredis, bounded by the caller's deadline.
      retryDelayOnFailover: 100,
      // Commands fail fast; the stream reader's first command goes out before the slot
      // map is known; the subscriber keeps ioredis's queue and resending (its node
      // connections come and go with the shards, the broker checks what is live).
      enableOfflineQueue: role !== 'commands',
      redisOptions: { ...shared, ...perConnection },
    };
    // ioredis resolves seed host names to addresses before connecting, and a certificate
    // issued for the name would not match the address: keep names as they are.
    if (tls !== undefined) cluster.dnsLookup = (address, callback) => callback(null, address);
    if (role === 'subscriber') {
      // ioredis >= 5.6 runs sharded pub/sub on one connection per master only with this
      // flag; without it SSUBSCRIBE goes to one random node and misses the other shards.
      cluster.shardedSubscribers = true;
      cluster.redisOptions = { ...shared, connectionName: options.name, keepAlive: 10_000 };
    }
    client = new Cluster(parseClusterNodes(connection.clusterNodes), cluster);
  }
  watchClientErrors(client, options.name, options.logger);
  return client;
}

/** At most one client error logged per client in this window; the rest are counted. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Attaches the `error` handler every ioredis client must have. While Redis is down
 * ioredis emits an error on every reconnection attempt, so errors are logged at most
 * once per interval with a count of those left out. The handler stays attached for the
 * client's whole life: a client being closed can still emit errors.
 */
export function watchClientErrors(client: EventEmitter, name: string, logger: RedisLogger | undefined): void {
  let loggedAt = -Infinity;
  let suppressed = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - loggedAt < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    logger?.warn({ err: error, client: name, suppressed }, 'Redis client error');
    loggedAt = now;
    suppressed = 0;
  });
}

/**
 * Resolves when the client is ready; connects a lazy client; rejects after `timeoutMs`
 * or when the client gave up (closed). Works on clients made anywhere, lazy or not.
 */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new Error('Redis client was closed'));
  return new Promise<void>((resolve, reject) => {
    // The last connection error says why (refused, a certificate that does not check
    // out, bad credentials): the timeout names it, so a failed start does too.
    let lastError: Error | undefined;
    const done = (error?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => done();
    const onEnd = (): void => done(new Error(`Redis client gave up connecting${lastError === undefined ? '' : ` (${lastErrorText(lastError)})`}`));
    const onError = (error: Error): void => {
      lastError = error;
    };
    const timer = setTimeout(() => done(new RedisTimeoutError(`Redis not ready after ${timeoutMs} ms (status ${client.status}${lastError === undefined ? '' : `; ${lastErrorText(lastError)}`})`)), timeoutMs);
    client.on('ready', onReady);
    client.on('end', onEnd);
    client.on('error', onError);
    // A lazy client connects on demand; the first attempt's failure is not final
    // (ioredis keeps retrying), so only `ready`, `end` or the timeout decide.
    if (client.status === 'wait') client.connect().catch(() => undefined);
  });
}

function lastErrorText(error: Error): string {
  return `last error: ${error.message.split('\n')[0]}`;
}

/** Closes gracefully (pending replies arrive) but never waits more than `graceMs`. */
export async function closeClient(client: RedisClient, graceMs = 1_000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}
