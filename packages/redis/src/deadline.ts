/**
 * Deadlines on Redis calls. ioredis may keep a command queued or in flight for long
 * (a node failing over, a reply that never comes for a SSUBSCRIBE that met MOVED), and
 * Herald's callers must answer within their own bounds, so every call that can wait is
 * raced against a timer. The owner maps the error to its own (the broker: 503).
 */

/** A Redis call or a connection did not finish in time; Redis may still apply the call. */
export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
}

/**
 * Rejects with RedisTimeoutError when `promise` has not settled after `ms`. The late
 * outcome is ignored: a publish that times out may still be applied by Redis, which a
 * retry with the same idempotency key absorbs.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisTimeoutError(`Redis ${what} timed out after ${ms} ms`)), ms);
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
