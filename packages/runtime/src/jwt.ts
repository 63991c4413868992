/**
 * The one JWT verifier of Herald, used by the edge at the handshake and by the ingest
 * for producers, so that a token means the same on both: signed with the configured
 * secret or public key under an algorithm allowlist that never includes `none`; `exp`,
 * `nbf` and, when configured, `iss` and `aud` enforced; a claims set that is a JSON
 * object (RFC 7519 section 7.2) with well-typed registered claims; and the operator's
 * lifetime rules (`JWT_REQUIRE_EXP`, `JWT_MAX_TTL`). What a service then reads from the
 * claims (grants, scopes) is its own business.
 */
import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import jwt, { type Algorithm } from 'jsonwebtoken';

/** How tokens are verified, as the edge and ingest both need it. */
export interface JwtVerification {
  secret?: string;
  publicKey?: string;
  algorithms: readonly string[];
  issuer?: string;
  audience?: string;
  /** Refuse tokens without `exp` (JWT_REQUIRE_EXP). */
  requireExp?: boolean;
  /** Refuse tokens that live longer than this, in milliseconds (JWT_MAX_TTL). */
  maxTtlMs?: number;
}

/** A verified claims set: always a JSON object. */
export type Claims = Readonly<Record<string, unknown>> & {
  readonly sub?: string;
  readonly exp?: number;
  readonly iat?: number;
  readonly nbf?: number;
};

export type TokenCheck = { ok: true; claims: Claims } | { ok: false; reason: string };

/**
 * The longest token accepted, in bytes: far above any real token (a hundred grants
 * fit in 4 KiB), and small enough that a refusal costs nothing.
 */
export const MAX_TOKEN_BYTES = 8192;

/** Node's HMAC digests for the JWS HMAC algorithms. */
const HMAC_DIGESTS: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
/** Three non-empty base64url segments: stricter than jws's JWS_REGEX (signature required). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export class JwtVerifier {
  private readonly key: KeyObject;
  private readonly options: jwt.VerifyOptions & { complete?: false };
  /** The HS* algorithms allowed with a secret key: the ones the fast path may verify. */
  private readonly hmacAlgorithms: ReadonlySet<string>;
  private readonly issuer: string | undefined;
  private readonly audience: string | undefined;
  private readonly requireExp: boolean;
  private readonly maxTtlSeconds: number;

  constructor(options: JwtVerification) {
    if (options.algorithms.length === 0 || options.algorithms.some((alg) => alg.toLowerCase() === 'none')) {
      throw new Error('the JWT algorithm allowlist must be non-empty and must not contain "none"');
    }
    if (options.secret !== undefined) this.key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    else if (options.publicKey !== undefined) this.key = createPublicKey(options.publicKey);
    else throw new Error('a JWT secret or public key is required');
    this.options = {
      algorithms: options.algorithms as Algorithm[],
      // jsonwebtoken checks these only when set (an undefined issuer checks nothing).
      issuer: options.issuer,
      audience: options.audience,
    };
    this.hmacAlgorithms = new Set(this.key.type === 'secret' ? options.algorithms.filter((alg) => alg in HMAC_DIGESTS) : []);
    this.issuer = options.issuer;
    this.audience = options.audience;
    this.requireExp = options.requireExp === true;
    this.maxTtlSeconds = options.maxTtlMs === undefined ? Number.POSITIVE_INFINITY : options.maxTtlMs / 1000;
  }

  verify(token: string): TokenCheck {
    if (token.length > MAX_TOKEN_BYTES) return { ok: false, reason: `token longer than ${MAX_TOKEN_BYTES} bytes` };
    let claims: unknown = this.verifyHmac(token);
    if (claims === undefined) {
      // Anything the fast path did not accept gets jsonwebtoken's verdict (and its reason).
      try {
        claims = jwt.verify(token, this.key, this.options);
      } catch (error) {
        return { ok: false, reason: describe(error) };
      }
    }
    // jwt.verify hands back arrays, numbers and booleans as they were signed.
    if (!isObject(claims)) return { ok: false, reason: 'token payload is not a JSON object' };
    const problem = this.claimProblem(claims);
    return problem === undefined ? { ok: true, claims: claims as Claims } : { ok: false, reason: problem };
  }

  /** The registered claims' types, then the lifetime rules; undefined when they hold. */
  private claimProblem(claims: Record<string, unknown>): string | undefined {
    if (claims.sub !== undefined && typeof claims.sub !== 'string') return 'claim "sub" must be a string';
    if (claims.iat !== undefined && !isFiniteNumber(claims.iat)) return 'claim "iat" must be a number';
    const exp = claims.exp;
    if (exp === undefined) {
      if (this.requireExp) return 'claim "exp" is required';
      if (this.maxTtlSeconds !== Number.POSITIVE_INFINITY) return 'claim "exp" is required (tokens have a maximum lifetime)';
      return undefined;
    }
    if (!isFiniteNumber(exp)) return 'claim "exp" must be a number';
    // Without `iat`, what is left of the token's life is what must fit.
    const issuedAt = typeof claims.iat === 'number' ? claims.iat : Date.now() / 1000;
    if (exp - issuedAt > this.maxTtlSeconds) return `token lifetime (exp - iat) is longer than ${this.maxTtlSeconds}s`;
    return undefined;
  }

  /**
   * The common case, an HS* token that jsonwebtoken accepts, verified for about half the
   * CPU of jwt.verify (each part decoded once, no option handling per call): jwt.verify
   * was 6% of the edge's CPU per connection. bench: connect.
   *
   * It accepts only a subset of what jwt.verify accepts: each check is jwt.verify's own
   * (the same decoding, the HMAC compared as the same base64url text, `nbf`, `exp`, `aud`
   * and `iss` tested as jwt.verify tests them, with no clock tolerance), or stricter (a
   * JSON object for header and payload, a non-empty signature). Anything else returns
   * undefined, and jwt.verify decides and says why.
   */
  private verifyHmac(token: string): Record<string, unknown> | undefined {
    if (this.hmacAlgorithms.size === 0 || !COMPACT_JWS.test(token)) return undefined;
    const headerEnd = token.indexOf('.');
    const payloadEnd = token.indexOf('.', headerEnd + 1);
    // jws reads the header as latin1 and the payload as UTF-8.
    const header = parseObject(Buffer.from(token.slice(0, headerEnd), 'base64url').toString('latin1'));
    const alg = header?.alg;
    if (typeof alg !== 'string' || !this.hmacAlgorithms.has(alg)) return undefined;
    const expected = createHmac(HMAC_DIGESTS[alg]!, this.key).update(token.slice(0, payloadEnd)).digest('base64url');
    const signature = token.slice(payloadEnd + 1);
    if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature, 'latin1'), Buffer.from(expected, 'latin1'))) return undefined;
    const claims = parseObject(Buffer.from(token.slice(headerEnd + 1, payloadEnd), 'base64url').toString('utf8'));
    if (claims === undefined) return undefined;
    const now = Math.floor(Date.now() / 1000);
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now)) return undefined;
    if (claims.exp !== undefined && (typeof claims.exp !== 'number' || now >= claims.exp)) return undefined;
    if (this.audience) {
      const audiences: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!audiences.includes(this.audience)) return undefined;
    }
    if (this.issuer && claims.iss !== this.issuer) return undefined;
    return claims;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A JSON object (not an array, not null), or undefined. */
function parseObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isObject(value) ? value : undefined;
}

function describe(error: unknown): string {
  if (error instanceof jwt.TokenExpiredError) return 'token expired';
  if (error instanceof jwt.NotBeforeError) return 'token not yet valid';
  if (error instanceof jwt.JsonWebTokenError) return error.message;
  return 'token could not be verified';
}
