/**
 * Token verification at the handshake: a JWT signed with the configured secret or
 * public key, under an algorithm allowlist that never includes `none`, with `exp`,
 * `nbf` and, when configured, `iss` and `aud` enforced.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm } from 'jsonwebtoken';
import { Grants, parseGrantClaim } from '@herald/protocol';

export interface VerifierOptions {
  secret?: string;
  publicKey?: string;
  algorithms: readonly string[];
  issuer?: string;
  audience?: string;
}

/** Who is connected and what they may subscribe to. */
export interface Identity {
  /** The token's `sub`; '' when it has none. */
  readonly user: string;
  readonly grants: Grants;
  /** `exp` in milliseconds since the epoch; Infinity when the token has none. */
  readonly expiresAt: number;
}

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; reason: string };

export class TokenVerifier {
  private readonly key: KeyObject;
  private readonly options: jwt.VerifyOptions & { complete?: false };

  constructor(options: VerifierOptions) {
    if (options.algorithms.length === 0 || options.algorithms.some((alg) => alg.toLowerCase() === 'none')) {
      throw new Error('the JWT algorithm allowlist must be non-empty and must not contain "none"');
    }
    if (options.secret !== undefined) this.key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    else if (options.publicKey !== undefined) this.key = createPublicKey(options.publicKey);
    else throw new Error('a JWT secret or public key is required');
    this.options = {
      algorithms: options.algorithms as Algorithm[],
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
    };
  }

  verify(token: string): VerifyResult {
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, this.key, this.options);
    } catch (error) {
      return { ok: false, reason: describe(error) };
    }
    if (typeof claims === 'string') return { ok: false, reason: 'token payload is not a JSON object' };
    const grants = parseGrantClaim(claims.channels);
    if (grants === undefined) return { ok: false, reason: 'claim "channels" must be an array of strings' };
    if (claims.sub !== undefined && typeof claims.sub !== 'string') return { ok: false, reason: 'claim "sub" must be a string' };
    return {
      ok: true,
      identity: {
        user: claims.sub ?? '',
        grants: new Grants(grants),
        expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY,
      },
    };
  }
}

function describe(error: unknown): string {
  if (error instanceof jwt.TokenExpiredError) return 'token expired';
  if (error instanceof jwt.NotBeforeError) return 'token not yet valid';
  if (error instanceof jwt.JsonWebTokenError) return error.message;
  return 'token could not be verified';
}
