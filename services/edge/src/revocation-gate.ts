/**
 * Whether a token of a revoked `sub` may open a connection or refresh one (PROTOCOL.md
 * section 11), asked of the Revocations store behind @herald/admission: one lookup per
 * check, never a cache that could answer "not revoked" wrongly.
 *
 * What this node heard announced is kept too (until each revocation lapses): it answers
 * without the store for those users, and it closes the race between a handshake's
 * check and an announcement that arrives before the connection opens.
 *
 * A store that cannot answer (Redis unreachable) lets the token through: the node keeps
 * serving, as admission does while Redis is down, the token is still verified (signature,
 * `exp`, JWT_MAX_TTL bound the exposure), and what this node heard still refuses. Each
 * such pass is counted (`herald_edge_revocation_check_failures_total`) and logged at most
 * every 10 s.
 */
import { isRevokedToken, type Revocation, type Revocations } from '@herald/admission';
import { Counter, type Logger, type Registry } from '@herald/runtime';
import type { Identity } from './auth.js';

/** Announced revocations kept at most: far above any real rate within a REVOCATION_TTL. */
const MAX_HEARD = 100_000;
const LOG_INTERVAL_MS = 10_000;

export class RevocationGate {
  private readonly heardByUser = new Map<string, Revocation>();
  private readonly failures: Counter;
  private loggedAt = -Infinity;
  private unlogged = 0;

  constructor(
    private readonly store: Revocations,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.failures = new Counter({
      name: 'herald_edge_revocation_check_failures_total',
      help: 'Handshakes and refreshes let through because the revocation store could not answer',
      registers: [registry],
    });
  }

  /** An announced revocation: remembered until it lapses. */
  heard(revocation: Revocation): void {
    const now = Date.now();
    this.heardByUser.delete(revocation.user);
    if (revocation.until > now) this.heardByUser.set(revocation.user, revocation);
    if (this.heardByUser.size > MAX_HEARD) {
      // Insertion order: the oldest announcement goes first; the store still knows it.
      for (const [user, old] of this.heardByUser) {
        if (this.heardByUser.size <= MAX_HEARD && old.until > now) break;
        this.heardByUser.delete(user);
      }
    }
  }

  /** Refused by a revocation this node heard announced (synchronous). */
  refusedLocally(identity: Identity): boolean {
    if (identity.user === '') return false;
    const revocation = this.heardByUser.get(identity.user);
    if (revocation === undefined) return false;
    if (revocation.until <= Date.now()) {
      this.heardByUser.delete(identity.user);
      return false;
    }
    return isRevokedToken(identity.issuedAt, revocation.before);
  }

  /** Whether the token may be used: heard announcements, then the store. Never rejects. */
  async allows(identity: Identity): Promise<boolean> {
    if (identity.user === '') return true;
    if (this.refusedLocally(identity)) return false;
    let before: number | undefined;
    try {
      before = (await this.store.lookup([identity.user])).get(identity.user);
    } catch (error) {
      this.failed(error);
      return !this.refusedLocally(identity);
    }
    return (before === undefined || !isRevokedToken(identity.issuedAt, before)) && !this.refusedLocally(identity);
  }

  private failed(error: unknown): void {
    this.failures.inc();
    const now = Date.now();
    if (now - this.loggedAt < LOG_INTERVAL_MS) {
      this.unlogged += 1;
      return;
    }
    this.logger.warn({ err: error, suppressed: this.unlogged }, 'revocation store unreachable: letting verified tokens through');
    this.loggedAt = now;
    this.unlogged = 0;
  }
}
