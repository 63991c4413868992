/**
 * Error mapping. Callers (ingest answering 503, the hub retrying a gap fill) must tell
 * "Redis is unreachable, retry" from a bug; deadlines (`withDeadline` of @herald/redis)
 * reject with RedisTimeoutError, which maps to BrokerUnavailableError here.
 */
import { BrokerUnavailableError } from '../broker.js';

/**
 * Replies that mean a bug or corrupted data rather than an unavailable backend: they
 * are passed through as they are. Everything else (connection closed, offline queue
 * disabled, timeouts, CLUSTERDOWN, LOADING, READONLY, OOM, MASTERDOWN, TRYAGAIN, ...)
 * becomes BrokerUnavailableError.
 */
const PROGRAMMING_ERRORS = /^(ERR |WRONGTYPE |NOSCRIPT |CROSSSLOT )/;

export function toBrokerError(error: unknown, what: string): Error {
  if (error instanceof BrokerUnavailableError) return error;
  if (error instanceof Error) {
    if (error.name === 'ReplyError' && PROGRAMMING_ERRORS.test(error.message)) return error;
    return new BrokerUnavailableError(`Redis ${what} failed: ${error.message}`, { cause: error });
  }
  return new BrokerUnavailableError(`Redis ${what} failed: ${String(error)}`);
}
