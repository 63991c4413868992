/**
 * Revocations (PROTOCOL.md section 11): "tokens of this `sub` issued before this instant
 * are no longer good", stored for REVOCATION_TTL and announced to every edge node.
 *
 * The store answers the handshake's and the refresh's question (one lookup per check,
 * never a scan), and the announcement lets each edge close the user's connections at
 * once. An announcement can be missed (the feed was down): the listener then hears
 * `onMissed` and checks what it holds against the store. Engines: memory (one process,
 * `herald start`) and Redis (one Redis or a Cluster, `@herald/admission/redis`).
 */

export interface Revocation {
  /** The token `sub` whose tokens are revoked. */
  readonly user: string;
  /** Tokens issued before this instant (epoch ms) are refused. */
  readonly before: number;
  /** When the revocation lapses (epoch ms): REVOCATION_TTL after it was made. */
  readonly until: number;
}

export interface RevocationListener {
  /** A revocation made anywhere in the cluster, this process's own included. Must not throw. */
  onRevoked(revocation: Revocation): void;
  /**
   * Announcements may have been missed (the feed was down and is back): look up the
   * users this node serves. Must not throw.
   */
  onMissed(): void;
}

export interface Revocations {
  /** Engine name: `memory`, `redis`. */
  readonly kind: string;
  /** Starts hearing announcements (edge nodes); resolves once listening or retrying in the background. */
  listen(listener: RevocationListener): Promise<void>;
  /** Stops hearing them. */
  stop(): Promise<void>;
  /**
   * Stores "tokens of `user` issued before `before` are refused" for `ttlMs`, then
   * announces it. A revocation never weakens a standing one: the later instant and the
   * longer life win. Rejects when the store is unreachable (nothing was announced).
   */
  revoke(user: string, before: number, ttlMs: number): Promise<Revocation>;
  /**
   * The instant (epoch ms) of each user's standing revocation; users without one are
   * absent. Rejects when the store is unreachable.
   */
  lookup(users: readonly string[]): Promise<Map<string, number>>;
  /** Why announcements may not arrive now (for logs and metrics), or undefined. */
  degradedReason(): string | undefined;
}

/**
 * Whether a token is refused under a revocation of `before` (epoch ms). `iat` counts in
 * whole seconds, so the instant is rounded up to the next whole second: a token minted
 * in the same second as the revocation is refused. A token without `iat` is refused.
 */
export function isRevokedToken(issuedAtSeconds: number | undefined, before: number): boolean {
  return issuedAtSeconds === undefined || issuedAtSeconds < Math.ceil(before / 1000);
}
