/**
 * The ingest's admin API as an operator calls it (PROTOCOL.md section 11):
 * `POST /v1/users/{sub}:disconnect`, and tokens minted around a revocation.
 */
import jwt from 'jsonwebtoken';
import { TEST_SECRET } from './herald.js';
import { resultOf } from './http.js';
import type { HttpAnswer } from './ingest.js';
import { clientToken, type ClientClaims } from './tokens.js';

/** A JWT with the scope `admin`. */
export function adminToken(claims: Record<string, unknown> = {}, secret = TEST_SECRET): string {
  return jwt.sign({ sub: 'ops', scope: 'admin', ...claims }, secret, claims.exp === undefined ? { algorithm: 'HS256', expiresIn: 600 } : { algorithm: 'HS256' });
}

export interface DisconnectOptions {
  /** The bearer; default an admin JWT. `null`: no Authorization header. */
  bearer?: string | null;
  /** The body as sent (an object is JSON-encoded); default none. */
  body?: unknown;
  headers?: Record<string, string>;
}

export async function disconnectUser(ingestUrl: string, sub: string, options: DisconnectOptions = {}): Promise<HttpAnswer> {
  const bearer = options.bearer === undefined ? adminToken() : options.bearer;
  const headers: Record<string, string> = { ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }), ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  return resultOf(await fetch(`${ingestUrl}/v1/users/${encodeURIComponent(sub)}:disconnect`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) }));
}

/** A client token whose `iat` is exactly `iatSeconds` (valid 1 h from now unless `exp` says otherwise). */
export function tokenIssuedAt(iatSeconds: number, claims: ClientClaims = {}): string {
  return clientToken({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims, iat: iatSeconds });
}

/** A client token without `iat`. */
export function tokenWithoutIat(claims: ClientClaims = {}): string {
  return clientToken({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims }, { noTimestamp: true });
}

/** The first whole second at or after an instant: the first `iat` a revocation of it lets through. */
export function firstIatAfter(instantMs: number): number {
  return Math.ceil(instantMs / 1000);
}
