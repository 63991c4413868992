/**
 * Ingest authentication: `Authorization: Bearer <token>` where the token is one of the
 * static INGEST_API_KEYS (compared in constant time) or a JWT whose `scope` claim
 * (space-separated) contains `events:publish`.
 */
import { createHash, createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm } from 'jsonwebtoken';

export const PUBLISH_SCOPE = 'events:publish';

export interface IngestAuthOptions {
  apiKeys: readonly string[];
  jwt?: { secret?: string; publicKey?: string; algorithms: readonly string[]; issuer?: string; audience?: string };
}

export type AuthResult = { ok: true; principal: string } | { ok: false; reason: string };

export class IngestAuthenticator {
  /** Digests of the keys: equal-length comparisons, whatever the key lengths. */
  private readonly keyDigests: Buffer[];
  private readonly key: KeyObject | undefined;
  private readonly verifyOptions: jwt.VerifyOptions & { complete?: false };

  constructor(options: IngestAuthOptions) {
    this.keyDigests = options.apiKeys.map(digest);
    const config = options.jwt;
    if (config?.secret !== undefined) this.key = createSecretKey(Buffer.from(config.secret, 'utf8'));
    else if (config?.publicKey !== undefined) this.key = createPublicKey(config.publicKey);
    if (config && config.algorithms.some((alg) => alg.toLowerCase() === 'none')) throw new Error('JWT algorithm "none" is never allowed');
    this.verifyOptions = {
      algorithms: (config?.algorithms ?? []) as Algorithm[],
      ...(config?.issuer !== undefined ? { issuer: config.issuer } : {}),
      ...(config?.audience !== undefined ? { audience: config.audience } : {}),
    };
  }

  authenticate(token: string | undefined): AuthResult {
    if (token === undefined) return { ok: false, reason: 'Authorization: Bearer <token> is required' };
    const presented = digest(token);
    let keyMatch = false;
    for (const key of this.keyDigests) keyMatch = timingSafeEqual(key, presented) || keyMatch;
    if (keyMatch) return { ok: true, principal: 'api-key' };
    if (this.key === undefined) return { ok: false, reason: 'invalid API key' };
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, this.key, this.verifyOptions);
    } catch (error) {
      return { ok: false, reason: error instanceof jwt.TokenExpiredError ? 'token expired' : 'invalid token or API key' };
    }
    if (typeof claims === 'string') return { ok: false, reason: 'invalid token' };
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(PUBLISH_SCOPE)) return { ok: false, reason: `token lacks the scope ${PUBLISH_SCOPE}` };
    return { ok: true, principal: typeof claims.sub === 'string' ? claims.sub : 'jwt' };
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
