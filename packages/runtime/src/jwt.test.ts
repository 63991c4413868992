import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { JwtVerifier, MAX_TOKEN_BYTES } from './jwt.js';

const SECRET = 'jwt-test-secret-0123456789abcdef0123456789';
const now = () => Math.floor(Date.now() / 1000);
const sign = (payload: object | string) => jwt.sign(payload, SECRET, { algorithm: 'HS256', noTimestamp: true });
const base = { secret: SECRET, algorithms: ['HS256'] } as const;

describe('JwtVerifier', () => {
  it('refuses claims sets that are not JSON objects (RFC 7519 section 7.2), correctly signed or not', () => {
    const verifier = new JwtVerifier(base);
    for (const payload of [[1, 2], 42, true, null, 'text']) {
      expect(verifier.verify(signRaw(payload)), JSON.stringify(payload)).toMatchObject({ ok: false });
    }
    expect(verifier.verify(signRaw({ sub: 'a' })).ok).toBe(true);
  });

  it('JWT_REQUIRE_EXP refuses tokens without exp and keeps the others', () => {
    const verifier = new JwtVerifier({ ...base, requireExp: true });
    expect(verifier.verify(sign({ sub: 'a' }))).toEqual({ ok: false, reason: 'claim "exp" is required' });
    expect(verifier.verify(sign({ sub: 'a', exp: now() + 60 })).ok).toBe(true);
    expect(new JwtVerifier(base).verify(sign({ sub: 'a' })).ok).toBe(true);
  });

  it('JWT_MAX_TTL refuses tokens living longer than allowed, by exp - iat or by what is left without iat', () => {
    const verifier = new JwtVerifier({ ...base, maxTtlMs: 3_600_000 });
    const t = now();
    expect(verifier.verify(sign({ iat: t, exp: t + 3600 })).ok).toBe(true);
    expect(verifier.verify(sign({ iat: t, exp: t + 3601 }))).toMatchObject({ ok: false, reason: expect.stringContaining('lifetime') });
    expect(verifier.verify(sign({ exp: t + 7200 }))).toMatchObject({ ok: false, reason: expect.stringContaining('lifetime') });
    expect(verifier.verify(sign({ exp: t + 600 })).ok).toBe(true);
    expect(verifier.verify(sign({ sub: 'forever' }))).toMatchObject({ ok: false, reason: expect.stringContaining('"exp" is required') });
    expect(verifier.verify(signRaw({ iat: 'yesterday', exp: t + 60 }))).toEqual({ ok: false, reason: 'claim "iat" must be a number' });
  });

  it(`refuses tokens longer than ${MAX_TOKEN_BYTES} bytes before any decoding`, () => {
    const verifier = new JwtVerifier(base);
    const big = sign({ sub: 'a', pad: 'x'.repeat(MAX_TOKEN_BYTES) });
    expect(verifier.verify(big)).toEqual({ ok: false, reason: `token longer than ${MAX_TOKEN_BYTES} bytes` });
  });

  it('refuses a sub that is not a string', () => {
    expect(new JwtVerifier(base).verify(sign({ sub: 42 }))).toEqual({ ok: false, reason: 'claim "sub" must be a string' });
  });
});

/** A correctly signed HS256 token with any payload, even one jwt.sign refuses. */
function signRaw(payload: unknown): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${header}.${body}.${hmac(`${header}.${body}`)}`;
}

function hmac(input: string): string {
  return createHmac('sha256', SECRET).update(input).digest('base64url');
}
