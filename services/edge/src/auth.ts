/**
 * Who a handshake's (or a `refresh` command's) token says the client is: the token is
 * checked by the one JWT verifier of `@herald/runtime` (shared with the ingest), then its
 * `channels` claim becomes the connection's grants.
 */
import { Grants, parseGrantClaim } from '@herald/protocol';
import { JwtVerifier, type JwtVerification } from '@herald/runtime';

export type VerifierOptions = JwtVerification;

/** Who is connected and what they may subscribe to. */
export interface Identity {
  /** The token's `sub`; '' when it has none. */
  readonly user: string;
  readonly grants: Grants;
  /** `exp` in milliseconds since the epoch; Infinity when the token has none. */
  readonly expiresAt: number;
  /** `iat` in seconds since the epoch, as signed; undefined when the token has none (revocations compare it). */
  readonly issuedAt: number | undefined;
  /** The `scope` claim (space-separated) has `admin`: Herald's own channels open (channel-access.ts). */
  readonly admin: boolean;
}

/** The scope that opens Herald's system channels, as on the ingest's admin API. */
export const ADMIN_SCOPE = 'admin';

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; reason: string };

export class TokenVerifier {
  private readonly jwt: JwtVerifier;

  constructor(options: VerifierOptions) {
    this.jwt = new JwtVerifier(options);
  }

  verify(token: string): VerifyResult {
    const checked = this.jwt.verify(token);
    if (!checked.ok) return checked;
    const { claims } = checked;
    const grants = parseGrantClaim(claims.channels);
    if (grants === undefined) return { ok: false, reason: 'claim "channels" must be an array of strings' };
    return {
      ok: true,
      identity: {
        user: claims.sub ?? '',
        grants: new Grants(grants),
        expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY,
        issuedAt: claims.iat,
        admin: typeof claims.scope === 'string' && claims.scope.split(' ').includes(ADMIN_SCOPE),
      },
    };
  }
}
