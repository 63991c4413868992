/**
 * Logging for the Redis engines. The interface is the part of pino the engine uses,
 * so a pino logger (or a child of it) fits as it is.
 */
import type { EventEmitter } from 'node:events';

export interface BrokerLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
  error(data: object, message: string): void;
}

/** At most one client error logged per client in this window; the rest are counted. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Attaches the `error` handler every ioredis client must have (an EventEmitter
 * without one crashes the process). While Redis is down ioredis emits an error on
 * every reconnection attempt, so errors are logged at most once per interval with a
 * count of those left out. The handler stays attached for the client's whole life: a
 * client being closed can still emit errors.
 */
export function watchClientErrors(client: EventEmitter, role: string, logger: BrokerLogger | undefined): void {
  let loggedAt = -Infinity;
  let suppressed = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - loggedAt < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    logger?.warn({ err: error, client: role, suppressed }, 'Redis client error');
    loggedAt = now;
    suppressed = 0;
  });
}
