/**
 * MAX_HANDSHAKES_PER_IP_PER_SECOND: WebSocket upgrades accepted per client address per
 * second, checked first on every upgrade, before the token is verified or admission is
 * asked, so that a client hammering the edge costs a map lookup, not a signature check
 * and a Redis round trip. Over the limit: 429 `rate-limited` with `Retry-After`.
 *
 * Counting is per one-second window (the wall clock's second): a table of counts per
 * client key (client-address.ts) for the current second, emptied when the second
 * changes. Memory is bounded whatever the traffic: the table holds at most
 * `maxAddresses` keys (DEFAULT_MAX_ADDRESSES, 50,000: under 8 MiB of keys and counts,
 * measured); once it is full, the addresses not in it share one overflow count with the
 * same limit. A spray from more addresses than that in one second is then limited as if
 * it were one client, while the clients already counted keep their own limit.
 *
 * Each edge process counts alone (each EDGE_WORKERS worker too): nothing here is shared.
 */
import type { IncomingMessage } from 'node:http';
import { ClientAddresses } from './client-address.js';

/** Client keys counted per second before the overflow count takes over. */
export const DEFAULT_MAX_ADDRESSES = 50_000;

export type HandshakeDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; detail: string };

const ALLOWED: HandshakeDecision = { allowed: true };

export class HandshakeLimiter {
  private second = -1;
  private readonly counts = new Map<string, number>();
  private overflow = 0;

  constructor(
    readonly perSecond: number,
    readonly maxAddresses = DEFAULT_MAX_ADDRESSES,
  ) {}

  /** Counts one handshake of `key` at `nowMs`, and says whether it may go on. */
  take(key: string, nowMs: number): HandshakeDecision {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.counts.clear();
      this.overflow = 0;
    }
    const count = this.counts.get(key);
    let taken: number;
    if (count !== undefined) {
      taken = count + 1;
      this.counts.set(key, taken);
    } else if (this.counts.size < this.maxAddresses) {
      taken = 1;
      this.counts.set(key, taken);
    } else {
      taken = ++this.overflow;
    }
    if (taken <= this.perSecond) return ALLOWED;
    return {
      allowed: false,
      // Always the next second: the window restarts then.
      retryAfterSeconds: 1,
      detail: `More than ${this.perSecond} WebSocket handshakes per second from this address; retry after the second ends`,
    };
  }

  /** Keys counted in the current second (for tests and metrics). */
  get trackedAddresses(): number {
    return this.counts.size;
  }
}

/** The limit as the edge applies it to an upgrade request: who the client is, then its count. */
export class HandshakeLimit {
  private readonly addresses: ClientAddresses;
  readonly limiter: HandshakeLimiter;

  constructor(perSecond: number, trustedProxies: readonly string[], maxAddresses = DEFAULT_MAX_ADDRESSES) {
    this.addresses = new ClientAddresses(trustedProxies);
    this.limiter = new HandshakeLimiter(perSecond, maxAddresses);
  }

  /** Undefined when the limit is off (unset or `unlimited`). */
  static fromOptions(options: { maxHandshakesPerIpPerSecond?: number | null; trustedProxies?: readonly string[] }): HandshakeLimit | undefined {
    const perSecond = options.maxHandshakesPerIpPerSecond;
    if (perSecond === undefined || perSecond === null) return undefined;
    return new HandshakeLimit(perSecond, options.trustedProxies ?? []);
  }

  check(req: IncomingMessage, nowMs: number): HandshakeDecision {
    return this.limiter.take(this.addresses.keyOf(req.socket.remoteAddress, req.headers['x-forwarded-for']), nowMs);
  }
}
