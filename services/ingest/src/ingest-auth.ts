/**
 * Ingest authentication: `Authorization: Bearer <token>` where the token is one of the
 * static INGEST_API_KEYS (compared in constant time) or a JWT, checked by the same
 * verifier as the edge's handshake, whose `scope` claim (space-separated) contains
 * `events:publish`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { JwtVerifier, type JwtVerification } from '@herald/runtime';

export const PUBLISH_SCOPE = 'events:publish';

export interface IngestAuthOptions {
  apiKeys: readonly string[];
  jwt?: JwtVerification;
}

export type AuthResult = { ok: true; principal: string } | { ok: false; reason: string };

export class IngestAuthenticator {
  /** Digests of the keys: equal-length comparisons, whatever the key lengths. */
  private readonly keyDigests: Buffer[];
  private readonly verifier: JwtVerifier | undefined;

  constructor(options: IngestAuthOptions) {
    this.keyDigests = options.apiKeys.map(digest);
    this.verifier = options.jwt === undefined ? undefined : new JwtVerifier(options.jwt);
  }

  authenticate(token: string | undefined): AuthResult {
    if (token === undefined) return { ok: false, reason: 'Authorization: Bearer <token> is required' };
    const presented = digest(token);
    let keyMatch = false;
    for (const key of this.keyDigests) keyMatch = timingSafeEqual(key, presented) || keyMatch;
    if (keyMatch) return { ok: true, principal: 'api-key' };
    if (this.verifier === undefined) return { ok: false, reason: 'invalid API key' };
    const checked = this.verifier.verify(token);
    if (!checked.ok) return { ok: false, reason: checked.reason === 'token expired' ? 'token expired' : 'invalid token or API key' };
    const scope = checked.claims.scope;
    const scopes = typeof scope === 'string' ? scope.split(' ') : [];
    if (!scopes.includes(PUBLISH_SCOPE)) return { ok: false, reason: `token lacks the scope ${PUBLISH_SCOPE}` };
    return { ok: true, principal: checked.claims.sub ?? 'jwt' };
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
