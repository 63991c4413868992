/** Tokens for tests, signed like a real issuer would. */
import jwt, { type SignOptions } from 'jsonwebtoken';
import { TEST_SECRET } from './herald.js';

export interface ClientClaims {
  sub?: string;
  channels?: string[];
  [claim: string]: unknown;
}

/** A client token, HS256 with the test secret, valid 1h unless `claims.exp` says otherwise. */
export function clientToken(claims: ClientClaims = {}, options: SignOptions = {}, secret = TEST_SECRET): string {
  const defaults: SignOptions = claims.exp === undefined ? { algorithm: 'HS256', expiresIn: 3600 } : { algorithm: 'HS256' };
  return jwt.sign({ sub: 'user-1', ...claims }, secret, { ...defaults, ...options });
}

export function publisherToken(secret = TEST_SECRET): string {
  return jwt.sign({ sub: 'producer', scope: 'events:publish' }, secret, { algorithm: 'HS256', expiresIn: 3600 });
}

/**
 * A JWT assembled by hand (for tokens no library will sign: `alg: none`, an HMAC
 * keyed with a public key's PEM...). `sign` gets the signing input and returns the
 * signature bytes; without it the signature is empty.
 */
export function rawToken(header: Record<string, unknown>, payload: Record<string, unknown>, sign?: (input: string) => Buffer): string {
  const encode = (part: Record<string, unknown>) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${sign ? sign(input).toString('base64url') : ''}`;
}

/** Seconds since the epoch, as JWT `exp`/`nbf`/`iat` use. */
export function epochSeconds(offsetSeconds = 0): number {
  return Math.floor(Date.now() / 1000) + offsetSeconds;
}
