/**
 * Revocations in this process's memory (`herald start`): the ingest's revoke reaches
 * the edge's listener in the same process, on the next microtask.
 */
import type { Revocation, RevocationListener, Revocations } from './revocations.js';

export class MemoryRevocations implements Revocations {
  readonly kind = 'memory';
  private readonly standing = new Map<string, Revocation>();
  private readonly listeners = new Set<RevocationListener>();

  constructor(private readonly now: () => number = Date.now) {}

  async listen(listener: RevocationListener): Promise<void> {
    this.listeners.add(listener);
  }

  async stop(): Promise<void> {
    this.listeners.clear();
  }

  async revoke(user: string, before: number, ttlMs: number): Promise<Revocation> {
    const now = this.now();
    const old = this.current(user, now);
    const revocation: Revocation = { user, before: Math.max(before, old?.before ?? before), until: Math.max(now + ttlMs, old?.until ?? 0) };
    this.standing.set(user, revocation);
    this.sweep(now);
    for (const listener of this.listeners) queueMicrotask(() => listener.onRevoked(revocation));
    return revocation;
  }

  async lookup(users: readonly string[]): Promise<Map<string, number>> {
    const now = this.now();
    const found = new Map<string, number>();
    for (const user of users) {
      const revocation = this.current(user, now);
      if (revocation !== undefined) found.set(user, revocation.before);
    }
    return found;
  }

  degradedReason(): string | undefined {
    return undefined;
  }

  private current(user: string, now: number): Revocation | undefined {
    const revocation = this.standing.get(user);
    if (revocation === undefined || revocation.until > now) return revocation;
    this.standing.delete(user);
    return undefined;
  }

  /** Lapsed revocations leave on the next revoke: the map holds at most REVOCATION_TTL's worth. */
  private sweep(now: number): void {
    for (const [user, revocation] of this.standing) if (revocation.until <= now) this.standing.delete(user);
  }
}
