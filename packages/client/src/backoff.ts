/**
 * Reconnect delays: exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): the delay of attempt n is uniform in
 * [0, min(maxDelay, initialDelay * factor^n)). Full jitter spreads a crowd of clients
 * (a draining node closes thousands) over the whole window instead of in waves.
 */

export interface BackoffOptions {
  /** Upper bound of the first delay, in ms. Default 500. */
  initialDelay?: number;
  /** Cap of the delay window, in ms. Default 30000. */
  maxDelay?: number;
  /** Growth of the window per consecutive failure. Default 2. */
  factor?: number;
  /**
   * A connection that stayed open (after its `connected` frame) at least this long, in
   * ms, resets the failure count when it ends. Shorter-lived connections count as
   * failures, so a server that accepts and drops at once is not hammered. Default 5000.
   */
  resetAfter?: number;
  /**
   * The retry after a 1001 on an open connection (the node is draining), and after a
   * 1001 refusal with no failure before it, waits uniform in [0, this), in ms, instead
   * of the first backoff window. A draining node's clients arrive at the other nodes at
   * the rate it closes them; with a short drain period that is a storm (the last node of
   * a 3-node rolling restart holds ~75% of the clients: in 3 s, 25% of all clients per
   * second), so each client adds its own delay over a window long enough to flatten it
   * whatever the drain period: at most ~9% per second for that node. Default 8000; 0
   * keeps the ordinary first window.
   */
  goingAwayWindow?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export const DEFAULT_BACKOFF: ResolvedBackoff = {
  initialDelay: 500,
  maxDelay: 30_000,
  factor: 2,
  resetAfter: 5_000,
  goingAwayWindow: 8_000,
};

export function resolveBackoff(options: BackoffOptions | undefined): ResolvedBackoff {
  const resolved = { ...DEFAULT_BACKOFF, ...stripUndefined(options ?? {}) };
  if (!(resolved.initialDelay >= 0)) throw new RangeError('backoff.initialDelay must be >= 0');
  if (!(resolved.maxDelay >= resolved.initialDelay)) throw new RangeError('backoff.maxDelay must be >= initialDelay');
  if (!(resolved.factor >= 1)) throw new RangeError('backoff.factor must be >= 1');
  if (!(resolved.resetAfter >= 0)) throw new RangeError('backoff.resetAfter must be >= 0');
  if (!(resolved.goingAwayWindow >= 0)) throw new RangeError('backoff.goingAwayWindow must be >= 0');
  return resolved;
}

/** The upper bound of the delay window for a 0-based attempt. */
export function backoffCeiling(options: ResolvedBackoff, attempt: number): number {
  // Math.min first would still overflow factor ** attempt to Infinity; that is fine.
  return Math.min(options.maxDelay, options.initialDelay * options.factor ** attempt);
}

/** Full jitter: uniform in [0, ceiling). `random` returns a number in [0, 1). */
export function backoffDelay(options: ResolvedBackoff, attempt: number, random: () => number): number {
  return Math.floor(random() * backoffCeiling(options, attempt));
}

/**
 * The delay before the next attempt: after a 1001 with no failure yet, uniform over the
 * going-away window (when it is set); otherwise full jitter over the backoff window.
 */
export function reconnectDelay(options: ResolvedBackoff, attempt: number, closeCode: number, random: () => number): number {
  if (closeCode === GOING_AWAY && attempt === 0 && options.goingAwayWindow > 0) return Math.floor(random() * options.goingAwayWindow);
  return backoffDelay(options, attempt, random);
}

/** WebSocket close code 1001: the server is going away (a Herald node draining). */
const GOING_AWAY = 1001;

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
