/**
 * Token renewal on a live connection (PROTOCOL.md section 11). With `getToken`, shortly
 * before the token expires (the `expiresAt` of `connected`, then of each `refreshed`)
 * the client asks `getToken()` for a new token and sends it with `refresh`, without
 * reconnecting: subscriptions and their positions are untouched. The margin is
 * min(30 s, 10% of the time left), plus up to half as much again at random, so a fleet
 * of clients whose tokens expire together does not refresh in one burst.
 *
 * A failing `getToken()` or a refused refresh is reported (`error` event) and tried
 * again with the reconnect backoff while the token is still valid. If it never
 * succeeds, the server closes 1008 at the expiry and the client reconnects with a token
 * from `getToken()`, as after any refused token.
 */
import { backoffDelay } from './backoff.js';
import { Timer } from './clock.js';
import { HeraldError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { fetchToken } from './token-source.js';

/** The longest margin before expiry, in ms. */
export const MAX_REFRESH_MARGIN = 30_000;
/** The margin as a share of the time left. */
export const REFRESH_MARGIN_SHARE = 0.1;

export interface TokenRefreshHost {
  /** Sends `refresh` on the current connection; resolves with the new `expiresAt`, rejects with the server's refusal. */
  send(token: string): Promise<string | undefined>;
  /** The refreshed token (the one later reconnects present) and its expiry. */
  adopt(token: string, expiresAt: string | undefined): void;
  emitError(error: HeraldError): void;
}

export class TokenRefresh {
  private readonly timer: Timer;
  /** Bumped by `stop()` and every new schedule: late answers of older attempts are dropped. */
  private generation = 0;
  private expiresAt = Number.NaN;
  private failures = 0;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly host: TokenRefreshHost,
  ) {
    this.timer = new Timer(options.timers, () => void this.refresh());
  }

  /** When the current token expires (ISO 8601, from `connected` or `refreshed`); nothing without `getToken`. */
  schedule(expiresAt: string | undefined): void {
    this.stop();
    this.failures = 0;
    if (this.options.getToken === undefined || expiresAt === undefined) return;
    const at = Date.parse(expiresAt);
    if (Number.isNaN(at)) return;
    this.expiresAt = at;
    this.timer.start(refreshDelay(at - this.options.timers.now(), this.options.random));
  }

  stop(): void {
    this.generation++;
    this.timer.stop();
  }

  private async refresh(): Promise<void> {
    const generation = this.generation;
    const getToken = this.options.getToken;
    if (getToken === undefined) return;
    let token: string;
    try {
      token = await fetchToken(getToken);
    } catch (error) {
      if (generation !== this.generation) return;
      this.host.emitError(error as HeraldError);
      this.retry();
      return;
    }
    if (generation !== this.generation) return;
    let expiresAt: string | undefined;
    try {
      expiresAt = await this.host.send(token);
    } catch (error) {
      if (generation !== this.generation) return;
      this.host.emitError(error instanceof HeraldError ? error : new HeraldError('transport', String(error), { cause: error }));
      this.retry();
      return;
    }
    if (generation !== this.generation) return;
    this.host.adopt(token, expiresAt);
    this.schedule(expiresAt);
  }

  /** Again after the backoff delay, while the current token is still valid. */
  private retry(): void {
    const delay = backoffDelay(this.options.backoff, this.failures++, this.options.random);
    if (this.options.timers.now() + delay >= this.expiresAt) return;
    this.timer.start(delay);
  }
}

/** How long before refreshing a token with `left` ms to live: the margin, and jitter of up to half of it. */
export function refreshDelay(left: number, random: () => number): number {
  const margin = Math.min(MAX_REFRESH_MARGIN, REFRESH_MARGIN_SHARE * Math.max(0, left));
  return Math.max(0, Math.floor(left - margin - random() * margin * 0.5));
}
