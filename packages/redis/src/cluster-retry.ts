/**
 * Commands on a Redis Cluster whose topology is changing (slots migrating, a master
 * failing over). ioredis follows MOVED/ASK and waits out TRYAGAIN/CLUSTERDOWN for a
 * command sent alone, but not inside a pipeline where other commands succeeded (it
 * passes the MOVED back), it refuses a pipeline whose slots it now maps to different
 * nodes, and a failover (the master gone until a replica is promoted) outlasts its
 * redirections. So a command that failed is sent again, alone, until it succeeds,
 * fails in a way a retry cannot fix, or the operation's deadline passes.
 *
 * Sending again is safe when the command certainly did not run (a redirection or a
 * refusal), or when it is idempotent (every publication carries an idempotency key, a
 * claim is SET NX): a command lost with its connection may have run.
 */
import type { Cluster } from 'ioredis';
import { withDeadline } from './deadline.js';

/** Refusals: the node did not run the command. */
const NOT_RUN =
  /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|MASTERDOWN|READONLY) |All keys in the pipeline should belong|Cluster isn't ready|enableOfflineQueue options is false|Too many Cluster redirections\. Last error: .*(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)/;

/** Bugs or bad data: retrying cannot help. */
const PROGRAMMING = /^(ERR |WRONGTYPE |NOSCRIPT |CROSSSLOT )/;

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 500;

/** True when `error` may go away if the command is sent again. */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (!(error instanceof Error)) return false;
  const cause = error.cause instanceof Error ? error.cause : error;
  if (PROGRAMMING.test(cause.message)) return false;
  if (NOT_RUN.test(cause.message)) return true;
  return idempotent;
}

/**
 * Runs `attempt` until it resolves, rejects with an error that is not retryable, or
 * `deadline` (epoch ms) passes; rejects with the last error. Re-reads the slot map
 * before each retry (ioredis merges concurrent re-reads).
 */
export async function retryOnCluster<T>(
  client: Cluster,
  attempt: () => Promise<T>,
  deadline: number,
  idempotent: boolean,
  what: string,
): Promise<T> {
  let delay = FIRST_DELAY_MS;
  for (;;) {
    try {
      return await withDeadline(attempt(), Math.max(1, deadline - Date.now()), what);
    } catch (error) {
      if (!isRetryable(error, idempotent) || Date.now() + delay >= deadline) throw error;
      client.refreshSlotsCache();
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(MAX_DELAY_MS, delay * 2);
    }
  }
}
