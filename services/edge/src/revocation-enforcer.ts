/**
 * Revocation on this node (PROTOCOL.md section 11): an announced revocation closes
 * every connection of its `sub` here at once (error `/problems/unauthorized` "Session
 * revoked", then close 1008), whatever their tokens' `iat`; after announcements may have
 * been missed, the users connected here are looked up in the store and connections whose
 * token the standing revocation covers are closed the same way.
 *
 * Sessions are indexed by `sub`, so an announcement costs the user's connections, not
 * a walk over the node's.
 */
import { isRevokedToken, type Revocation, type RevocationListener, type Revocations } from '@herald/admission';
import { Disconnect } from '@herald/protocol';
import type { Logger } from '@herald/runtime';
import type { RevocationGate } from './revocation-gate.js';
import type { Session } from './session.js';

/** Users per store lookup when catching up: one pipeline per shard each. */
const LOOKUP_CHUNK = 1_000;

export class RevocationEnforcer implements RevocationListener {
  private readonly byUser = new Map<string, Set<Session>>();
  private catchingUp = false;
  private catchUpAgain = false;

  constructor(
    private readonly store: Revocations,
    private readonly gate: RevocationGate,
    private readonly logger: Logger,
  ) {}

  add(session: Session): void {
    const user = session.identity.user;
    if (user === '') return;
    const sessions = this.byUser.get(user);
    if (sessions) sessions.add(session);
    else this.byUser.set(user, new Set([session]));
  }

  remove(session: Session): void {
    const user = session.identity.user;
    const sessions = this.byUser.get(user);
    if (!sessions?.delete(session)) return;
    if (sessions.size === 0) this.byUser.delete(user);
  }

  onRevoked(revocation: Revocation): void {
    this.gate.heard(revocation);
    const sessions = this.byUser.get(revocation.user);
    if (sessions === undefined) return;
    this.logger.info({ user: revocation.user, connections: sessions.size }, 'closing revoked sessions');
    for (const session of [...sessions]) revoke(session);
  }

  onMissed(): void {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    void this.catchUp().finally(() => {
      this.catchingUp = false;
      if (this.catchUpAgain) {
        this.catchUpAgain = false;
        this.onMissed();
      }
    });
  }

  private async catchUp(): Promise<void> {
    const users = [...this.byUser.keys()];
    let closed = 0;
    for (let i = 0; i < users.length; i += LOOKUP_CHUNK) {
      let found: Map<string, number>;
      try {
        found = await this.store.lookup(users.slice(i, i + LOOKUP_CHUNK));
      } catch (error) {
        this.logger.warn({ err: error }, 'could not look up revocations after the feed came back');
        return;
      }
      for (const [user, before] of found) {
        for (const session of [...(this.byUser.get(user) ?? [])]) {
          if (!isRevokedToken(session.identity.issuedAt, before)) continue;
          revoke(session);
          closed += 1;
        }
      }
    }
    if (closed > 0) this.logger.info({ connections: closed }, 'closed sessions revoked while the revocation feed was down');
  }
}

function revoke(session: Session): void {
  if (session.closing) return;
  session.end(Disconnect.revoked);
}
