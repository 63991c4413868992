/**
 * Who may use the ingest's admin API (PROTOCOL.md section 11): `Authorization: Bearer`
 * with a key of ADMIN_API_KEYS (compared in constant time) or a JWT, checked by the one
 * verifier shared with the edge, whose `scope` claim (space-separated) has `admin`.
 *
 * No bearer, an unknown key or a bad token: 401. A caller who proved who they are but
 * may not administer (an INGEST_API_KEYS key, a token without the scope, such as an
 * `events:publish` one): 403.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { JwtVerifier, type JwtVerification } from '@herald/runtime';

export const ADMIN_SCOPE = 'admin';

export interface AdminAuthOptions {
  adminKeys: readonly string[];
  /** INGEST_API_KEYS: known, but not for this API (403 rather than 401). */
  publishKeys: readonly string[];
  jwt?: JwtVerification;
}

export type AdminAuthResult = { ok: true; principal: string } | { ok: false; status: 401 | 403; reason: string };

export class AdminAuthenticator {
  private readonly adminDigests: Buffer[];
  private readonly publishDigests: Buffer[];
  private readonly verifier: JwtVerifier | undefined;

  constructor(options: AdminAuthOptions) {
    this.adminDigests = options.adminKeys.map(digest);
    this.publishDigests = options.publishKeys.map(digest);
    this.verifier = options.jwt === undefined ? undefined : new JwtVerifier(options.jwt);
  }

  authenticate(token: string | undefined): AdminAuthResult {
    if (token === undefined) return { ok: false, status: 401, reason: 'Authorization: Bearer <token> is required' };
    const presented = digest(token);
    if (matches(this.adminDigests, presented)) return { ok: true, principal: 'admin-key' };
    if (matches(this.publishDigests, presented)) return { ok: false, status: 403, reason: 'an ingest API key may publish events, not administer' };
    if (this.verifier === undefined) return { ok: false, status: 401, reason: 'invalid API key' };
    const checked = this.verifier.verify(token);
    if (!checked.ok) return { ok: false, status: 401, reason: checked.reason === 'token expired' ? 'token expired' : 'invalid token or API key' };
    const scope = checked.claims.scope;
    const scopes = typeof scope === 'string' ? scope.split(' ') : [];
    if (!scopes.includes(ADMIN_SCOPE)) return { ok: false, status: 403, reason: `token lacks the scope ${ADMIN_SCOPE}` };
    return { ok: true, principal: checked.claims.sub ?? 'jwt' };
  }
}

/** Every digest is compared, whichever matches, so timing says nothing about which. */
function matches(digests: readonly Buffer[], presented: Buffer): boolean {
  let found = false;
  for (const key of digests) found = timingSafeEqual(key, presented) || found;
  return found;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
