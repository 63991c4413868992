/**
 * Error mapping and deadlines. Callers (ingest answering 503, the hub retrying a gap
 * fill) must tell "Redis is unreachable, retry" from a bug, and must never wait
 * forever on a command stuck in a client queue.
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

/**
 * Rejects with BrokerUnavailableError when `promise` has not settled after `ms`. The
 * late outcome is ignored: a publish that times out may still be applied by Redis,
 * which the producer's retry with the same idempotency key absorbs.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BrokerUnavailableError(`Redis ${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
