/**
 * Builds a Redis broker and its two clients from connection settings, through the one
 * client factory (`createRedisClient` of @herald/redis):
 *
 * - a `commands` client: no offline queue and no resending after a reconnection, plus a
 *   command timeout, so that publish/history/position fail fast with
 *   BrokerUnavailableError while Redis is unreachable (ingest answers 503 and the
 *   producer retries) instead of queueing;
 * - a `subscriber` client: the broker resubscribes itself so that it knows when every
 *   channel is live again.
 *
 * Both are lazy: nothing connects before `start()`.
 */
import { createRedisClient, type RedisConnectionOptions } from '@herald/redis';
import type { RetentionSettings } from '../retention.js';
import { RedisBroker } from './broker-redis.js';
import type { BrokerLogger } from './logger.js';

export interface CreateRedisBrokerOptions {
  keyPrefix?: string;
  /** Settings left out take their defaults; the broker derives its windows (`retentionOf`). */
  retention?: Partial<RetentionSettings>;
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

export function createRedisBroker(connection: RedisConnectionOptions, options: CreateRedisBrokerOptions = {}): RedisBroker {
  const name = options.connectionName ?? 'herald';
  const logger = options.logger;
  return new RedisBroker({
    client: createRedisClient(connection, 'commands', { name: `${name}-broker`, commandTimeoutMs: options.commandTimeoutMs ?? 2_000, logger }),
    subscriber: createRedisClient(connection, 'subscriber', { name: `${name}-broker-sub`, logger }),
    keyPrefix: options.keyPrefix,
    retention: options.retention,
    logger,
    operationTimeoutMs: options.operationTimeoutMs,
    startTimeoutMs: options.startTimeoutMs,
    closeClientsOnStop: true,
  });
}
