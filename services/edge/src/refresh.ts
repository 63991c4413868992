/**
 * The `refresh` command (PROTOCOL.md section 11): a new token for the same connection.
 * The token gets exactly the handshake's checks (the one JWT verifier: signature,
 * algorithms, `exp`/`nbf`, issuer, audience, JWT_REQUIRE_EXP, JWT_MAX_TTL, size), the
 * same `sub`, and the revocation check. Accepted: the connection lives by the new
 * token's `exp` and grants, and each subscribed channel the new grants do not cover is
 * dropped with `unsubscribed` (reason `forbidden`). Refused: `unauthorized`, and the
 * connection keeps its old token (the sweeper still closes it at the old `exp`).
 */
import { Problem, type RefreshCommand } from '@herald/protocol';
import type { Identity, TokenVerifier } from './auth.js';
import { mayReceive } from './channel-access.js';
import type { Hub } from './hub.js';
import type { RevocationGate } from './revocation-gate.js';
import type { Session } from './session.js';

/** The per-session chain refreshes run on: not a channel name (those are never empty). */
const REFRESH_CHAIN = '';

export class TokenRefresher {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly gate: RevocationGate,
    private readonly hub: Hub,
  ) {}

  /** Refreshes of one session apply in the order sent. */
  handle(session: Session, command: RefreshCommand): void {
    session.runInOrder(REFRESH_CHAIN, () => this.refresh(session, command));
  }

  private async refresh(session: Session, command: RefreshCommand): Promise<void> {
    const replyTo = command.id;
    const verified = this.verifier.verify(command.data.token);
    if (!verified.ok) {
      session.sendError(Problem.unauthorized, `Invalid token: ${verified.reason}; the connection keeps its current token`, replyTo);
      return;
    }
    const identity = verified.identity;
    if (identity.user !== session.identity.user) {
      session.sendError(Problem.unauthorized, 'The token is for another subject ("sub"); the connection keeps its current token', replyTo);
      return;
    }
    const allowed = await this.gate.allows(identity);
    if (session.closing) return;
    if (!allowed) {
      session.sendError(Problem.unauthorized, 'Invalid token: token revoked; the connection keeps its current token', replyTo);
      return;
    }
    // The token may have expired while the store answered: the sweeper would close at once.
    if (identity.expiresAt <= Date.now()) {
      session.sendError(Problem.unauthorized, 'Invalid token: token expired; the connection keeps its current token', replyTo);
      return;
    }
    this.apply(session, identity, replyTo);
  }

  private apply(session: Session, identity: Identity, replyTo: string | undefined): void {
    session.identity = identity;
    session.enqueue(session.format.refreshed(replyTo, expiresAtIso(identity)));
    // From here every subscribe checks the new grants. A channel they no longer cover is
    // dropped after the commands already running on it (a subscribe in flight gets its
    // reply first), so the client always sees `unsubscribed` last.
    for (const channel of [...session.subscriptions.keys()]) {
      if (mayReceive(identity, channel)) continue;
      session.runInOrder(channel, async () => {
        if (session.closing || mayReceive(session.identity, channel)) return;
        const subscription = session.subscriptions.get(channel);
        if (subscription === undefined) return;
        session.subscriptions.delete(channel);
        this.hub.leave(session, subscription);
        session.enqueue(session.format.unsubscribed(undefined, channel, 'forbidden'));
      });
    }
  }
}

/** `exp` as the frames carry it (ISO 8601), or undefined for a token without one. */
export function expiresAtIso(identity: Identity): string | undefined {
  return Number.isFinite(identity.expiresAt) ? new Date(identity.expiresAt).toISOString() : undefined;
}
