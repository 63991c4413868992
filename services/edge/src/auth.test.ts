import { createHmac, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseGrantClaim } from '@herald/protocol';
import { TokenVerifier, type VerifierOptions } from './auth.js';

const SECRET = 'auth-test-secret-0123456789abcdef0123456789';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const hmac = (input: string, secret = SECRET, digest = 'sha256') => createHmac(digest, secret).update(input).digest('base64url');

/** A token from raw parts: any header, any payload (object or text), any signature. */
function token(header: unknown, payload: unknown, sign: (input: string) => string = (input) => hmac(input)): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}

const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'alice', channels: ['merchant:m_1'], exp: now() + 600, ...extra });
const hs256 = { alg: 'HS256', typ: 'JWT' };

/** The verdict of jwt.verify alone, with the claim checks TokenVerifier adds after it. */
function reference(value: string, key: KeyObject, options: VerifierOptions) {
  let payload: jwt.JwtPayload | string;
  try {
    payload = jwt.verify(value, key, {
      algorithms: options.algorithms as jwt.Algorithm[],
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
    });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) return { ok: false, reason: 'token expired' };
    if (error instanceof jwt.NotBeforeError) return { ok: false, reason: 'token not yet valid' };
    if (error instanceof jwt.JsonWebTokenError) return { ok: false, reason: error.message };
    return { ok: false, reason: 'token could not be verified' };
  }
  // RFC 7519 section 7.2: the claims set is a JSON object; jwt.verify also hands back arrays and scalars.
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { ok: false, reason: 'token payload is not a JSON object' };
  const grants = parseGrantClaim(payload.channels);
  if (grants === undefined) return { ok: false, reason: 'claim "channels" must be an array of strings' };
  if (payload.sub !== undefined && typeof payload.sub !== 'string') return { ok: false, reason: 'claim "sub" must be a string' };
  return { ok: true, user: payload.sub ?? '', expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY };
}

function verdict(verifier: TokenVerifier, value: string) {
  const result = verifier.verify(value);
  return result.ok ? { ok: true, user: result.identity.user, expiresAt: result.identity.expiresAt } : { ok: false, reason: result.reason };
}

/** Changes the last signature character so that it decodes to the same bytes (non-canonical base64url). */
function nonCanonical(value: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(value.at(-1)!);
  return value.slice(0, -1) + alphabet[last ^ 1];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TokenVerifier', () => {
  const options: VerifierOptions = { secret: SECRET, algorithms: ['HS256'] };
  const key = createSecretKey(Buffer.from(SECRET, 'utf8'));

  const cases: Array<[string, string]> = [
    ['a valid token', token(hs256, claims())],
    ['no exp', token(hs256, claims({ exp: undefined }))],
    ['no sub', token(hs256, claims({ sub: undefined }))],
    ['no typ', token({ alg: 'HS256' }, claims())],
    ['typ JOSE, and a kid', token({ alg: 'HS256', typ: 'JOSE', kid: 'k1' }, claims())],
    ['expired', token(hs256, claims({ exp: now() - 10 }))],
    ['exp now', token(hs256, claims({ exp: now() }))],
    ['exp as a string', token(hs256, claims({ exp: String(now() + 600) }))],
    ['nbf in the future', token(hs256, claims({ nbf: now() + 60 }))],
    ['nbf now', token(hs256, claims({ nbf: now() }))],
    ['nbf as a string', token(hs256, claims({ nbf: '0' }))],
    ['another secret', token(hs256, claims(), (input) => hmac(input, 'another-secret'))],
    ['HS512, not allowed', token({ alg: 'HS512', typ: 'JWT' }, claims(), (input) => hmac(input, SECRET, 'sha512'))],
    ['alg none', token({ alg: 'none', typ: 'JWT' }, claims(), () => '')],
    ['alg none with a signature', token({ alg: 'none', typ: 'JWT' }, claims())],
    ['alg hs256 (lower case)', token({ alg: 'hs256', typ: 'JWT' }, claims())],
    ['no alg', token({ typ: 'JWT' }, claims())],
    ['a header that is a string', token('"HS256"', claims())],
    ['a header that is an array', token(['HS256'], claims())],
    ['a header that is not JSON', token('{alg:HS256', claims())],
    ['a payload that is an array', token(hs256, [claims()])],
    ['a payload that is [1,2]', token(hs256, [1, 2])],
    ['a payload that is a number', token(hs256, 42)],
    ['a payload that is true', token(hs256, true)],
    ['a payload that is a JSON string', token({ alg: 'HS256' }, '"alice"')],
    ['a payload that is not JSON, no typ', token({ alg: 'HS256' }, 'not json')],
    ['a payload that is not JSON, typ JWT', token(hs256, 'not json')],
    ['a non-canonical signature', nonCanonical(token(hs256, claims()))],
    ['an empty signature', token(hs256, claims(), () => '')],
    ['four parts', `${token(hs256, claims())}.x`],
    ['two parts', token(hs256, claims()).split('.').slice(0, 2).join('.')],
    ['padding in the signature', `${token(hs256, claims())}=`],
    ['channels not an array', token(hs256, claims({ channels: 'merchant:m_1' }))],
    ['sub not a string', token(hs256, claims({ sub: 42 }))],
    ['not a token', 'hello'],
    ['empty', ''],
  ];

  it.each(cases)('decides %s exactly as jwt.verify', (_name, value) => {
    expect(verdict(new TokenVerifier(options), value)).toEqual(reference(value, key, options));
  });

  it('accepts a valid HS256 token without calling jwt.verify, and leaves refusals to it', () => {
    const verify = vi.spyOn(jwt, 'verify');
    const verifier = new TokenVerifier(options);
    expect(verifier.verify(token(hs256, claims())).ok).toBe(true);
    expect(verify).not.toHaveBeenCalled();
    expect(verifier.verify(token(hs256, claims({ exp: now() - 10 })))).toEqual({ ok: false, reason: 'token expired' });
    expect(verify).toHaveBeenCalledTimes(1);
  });

  describe('with JWT_ISSUER and JWT_AUDIENCE, HS256 and HS512', () => {
    const scoped: VerifierOptions = { secret: SECRET, algorithms: ['HS256', 'HS512'], issuer: 'https://issuer.example.com', audience: 'herald-clients' };
    const iss = 'https://issuer.example.com';
    const scopedCases: Array<[string, string]> = [
      ['iss and aud', token(hs256, claims({ iss, aud: 'herald-clients' }))],
      ['HS512', token({ alg: 'HS512', typ: 'JWT' }, claims({ iss, aud: 'herald-clients' }), (input) => hmac(input, SECRET, 'sha512'))],
      ['HS512 signed as HS256', token({ alg: 'HS512', typ: 'JWT' }, claims({ iss, aud: 'herald-clients' }))],
      ['aud in an array', token(hs256, claims({ iss, aud: ['other', 'herald-clients'] }))],
      ['a wrong aud', token(hs256, claims({ iss, aud: 'someone-else' }))],
      ['no aud', token(hs256, claims({ iss }))],
      ['a wrong iss', token(hs256, claims({ iss: 'https://evil.example.com', aud: 'herald-clients' }))],
      ['no iss', token(hs256, claims({ aud: 'herald-clients' }))],
      ['iss in an array', token(hs256, claims({ iss: [iss], aud: 'herald-clients' }))],
    ];
    it.each(scopedCases)('decides %s exactly as jwt.verify', (_name, value) => {
      expect(verdict(new TokenVerifier(scoped), value)).toEqual(reference(value, key, scoped));
    });
  });

  it('with a public key, never takes the HMAC path (algorithm confusion)', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsa: VerifierOptions = { publicKey: pem, algorithms: ['RS256', 'HS256'] };
    const confused = token(hs256, claims(), (input) => hmac(input, pem));
    const result = new TokenVerifier(rsa).verify(confused);
    expect(result.ok).toBe(false);
    expect(result).toEqual(reference(confused, publicKey, rsa));
  });
});
