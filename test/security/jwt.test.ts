/**
 * Security, tokens: forged, tampered, stale and oversized JWTs against a real edge (the
 * handshake, token in the Authorization header and in ?access_token=) and a real ingest
 * (the bearer of POST /v1/events), both on one Redis, with JWT_ISSUER and JWT_AUDIENCE
 * configured; then algorithm confusion against a pair configured with JWT_PUBLIC_KEY.
 * Every forgery gets 401 /problems/unauthorized (PROTOCOL.md sections 2.3 and 7), whose
 * body does not echo the token; after each, a legitimate client still subscribes and
 * receives a published event.
 */
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import { rawRequest, upgradeRequest } from '../support/raw-http.js';
import { epochSeconds, rawToken } from '../support/tokens.js';
import { refusedHandshake } from '../support/ws-client.js';
import { created, expectProblem, freshKeys } from '../ingest/helpers.js';
import { expectRawProblem } from '../hardening/support.js';
import { startTarget, type Target } from './support.js';

const ISSUER = 'https://issuer.herald.test';
const AUDIENCE = 'herald-security';
const API_KEY = `security-ingest-key-${process.pid}`;

/** Claims a legitimate token carries: the configured iss and aud, grants for subscribers, the scope for producers. */
const good = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: 'sec-user',
  iss: ISSUER,
  aud: AUDIENCE,
  channels: ['merchant:*'],
  scope: 'events:publish',
  iat: epochSeconds(),
  exp: epochSeconds(3600),
  ...extra,
});

const hs256 = (claims: Record<string, unknown>, secret = TEST_SECRET): string => jwt.sign(claims, secret, { algorithm: 'HS256' });

async function expectEdge401(target: Target, token: string): Promise<void> {
  for (const tokenInQuery of [false, true]) {
    const refused = await refusedHandshake(target.edge.wsUrl, { token, tokenInQuery });
    expect(refused.status, `token in ${tokenInQuery ? 'query' : 'header'}`).toBe(401);
    expect(refused.contentType?.split(';')[0]).toBe('application/problem+json');
    expect(refused.body).toMatchObject({ type: '/problems/unauthorized', status: 401 });
    expect(JSON.stringify(refused.body)).not.toContain(token.split('.')[1] ?? token);
  }
}

async function expectIngest401(target: Target, token: string): Promise<void> {
  const answer = await publish(target.ingest.url, created(freshKeys()), { authorization: `Bearer ${token}` });
  expectProblem(answer, 401, '/problems/unauthorized');
  expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect(JSON.stringify(answer.body)).not.toContain(token.split('.')[1] ?? token);
}

describe('HS256 with JWT_ISSUER and JWT_AUDIENCE', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget({
      label: 'sec-jwt',
      env: { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
      ingestEnv: { INGEST_API_KEYS: API_KEY },
    });
  });
  afterAll(async () => {
    await target?.stop();
  });
  afterEach(async () => {
    await target.expectServes({ token: (channel) => hs256(good({ channels: [channel] })), publishHeaders: { authorization: `Bearer ${hs256(good())}` } });
  });

  /** Each forgery, as a function of the claims a real token would carry. */
  const forgeries: Array<[string, (claims: Record<string, unknown>) => string]> = [
    ['alg none, no signature', (claims) => rawToken({ alg: 'none', typ: 'JWT' }, claims)],
    ['alg "None", no signature', (claims) => rawToken({ alg: 'None', typ: 'JWT' }, claims)],
    ['alg none with a valid HS256 signature kept', (claims) => `${rawToken({ alg: 'none', typ: 'JWT' }, claims).slice(0, -1)}.${hs256(claims).split('.')[2]}`],
    ['no alg at all', (claims) => rawToken({ typ: 'JWT' }, claims, (input) => createHmac('sha256', TEST_SECRET).update(input).digest())],
    ['HS512 with the right secret (not in JWT_ALGORITHMS)', (claims) => jwt.sign(claims, TEST_SECRET, { algorithm: 'HS512' })],
    ['HS256 with a wrong secret', (claims) => hs256(claims, 'not-the-secret-0123456789abcdef')],
    ['HS256 with an empty secret', (claims) => rawToken({ alg: 'HS256', typ: 'JWT' }, claims, (input) => createHmac('sha256', '').update(input).digest())],
    [
      'a tampered payload (more grants, the publish scope) under the original signature',
      (claims) => {
        const [header, , signature] = hs256({ ...claims, channels: ['merchant:m_nobody'], scope: 'read' }).split('.');
        return `${header}.${Buffer.from(JSON.stringify({ ...claims, channels: ['*'] })).toString('base64url')}.${signature}`;
      },
    ],
    ['a truncated signature', (claims) => hs256(claims).slice(0, -3)],
    ['expired a minute ago', (claims) => hs256({ ...claims, exp: epochSeconds(-60) })],
    ['expired this very second (exp = now)', (claims) => hs256({ ...claims, exp: epochSeconds() })],
    ['nbf five minutes in the future', (claims) => hs256({ ...claims, nbf: epochSeconds(300) })],
    ['exp that is not a number', (claims) => rawToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: `${epochSeconds(3600)}` }, (input) => createHmac('sha256', TEST_SECRET).update(input).digest())],
    ['a wrong iss', (claims) => hs256({ ...claims, iss: 'https://evil.test' })],
    ['no iss', (claims) => hs256({ ...claims, iss: undefined })],
    ['an iss that only starts with the right one', (claims) => hs256({ ...claims, iss: `${ISSUER}.evil.test` })],
    ['a wrong aud', (claims) => hs256({ ...claims, aud: 'someone-else' })],
    ['an aud list without ours', (claims) => hs256({ ...claims, aud: ['a', 'b'] })],
    ['no aud', (claims) => hs256({ ...claims, aud: undefined })],
    ['an API key with a JWT appended', () => `${API_KEY}.${hs256(good())}`],
  ];

  it.each(forgeries)('%s: 401 on the handshake (header and query) and on the ingest', async (_name, forge) => {
    await expectEdge401(target, forge(good()));
    await expectIngest401(target, forge(good()));
  });

  it.each([
    ['a string', 'merchant:*'],
    ['an object', { 'merchant:*': true }],
    ['numbers', [1, 2]],
    ['a list with a number inside', ['merchant:m_1', 5]],
    ['a list with null inside', [null]],
    ['a nested list', [['merchant:*']]],
    ['null', null],
  ])('a signed token whose channels claim is %s: 401 on the handshake', async (_name, channels) => {
    await expectEdge401(target, hs256(good({ channels })));
  });

  it('a prefix of the API key, the key with a suffix, or the key in another case: 401 on the ingest', async () => {
    for (const key of [API_KEY.slice(0, -1), `${API_KEY}x`, API_KEY.toUpperCase(), `${API_KEY},${API_KEY}`]) await expectIngest401(target, key);
  });

  /** A correctly signed token of about `bytes` bytes (a long grant list). */
  const sized = (bytes: number): string => hs256(good({ pad: 'x'.repeat(bytes) }));

  it('a 64 KiB token in Authorization or ?access_token=: 431 request-header-fields-too-large, on the edge and the ingest', async () => {
    const huge = sized(64 * 1024);
    expectRawProblem(await rawRequest(target.edge.port, upgradeRequest('/v1/ws', { Authorization: `Bearer ${huge}` })), 431, '/problems/request-header-fields-too-large');
    expectRawProblem(await rawRequest(target.edge.port, upgradeRequest(`/v1/ws?access_token=${huge}`)), 431, '/problems/request-header-fields-too-large');
    const post = `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${huge}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
    expectRawProblem(await rawRequest(target.ingest.port, post), 431, '/problems/request-header-fields-too-large');
  });

  it('a token over 8 KiB that fits in the headers: 401 naming the limit, on the edge and the ingest', async () => {
    const big = sized(9 * 1024);
    const answer = await rawRequest(target.edge.port, upgradeRequest('/v1/ws', { Authorization: `Bearer ${big}` }));
    expectRawProblem(answer, 401, '/problems/unauthorized');
    expect(answer.json.detail).toContain('8192 bytes');
    await expectIngest401(target, big);
  });
});

describe('JWT_PUBLIC_KEY (RS256): algorithm confusion', () => {
  let target: Target;
  let privateKey: KeyObject;
  let pem: string;
  const rs256 = (claims: Record<string, unknown>, key: KeyObject = privateKey): string => jwt.sign(claims, key, { algorithm: 'RS256' });

  beforeAll(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    target = await startTarget({ label: 'sec-jwt-rsa', env: { JWT_SECRET: undefined, JWT_PUBLIC_KEY: pem } });
  });
  afterAll(async () => {
    await target?.stop();
  });
  afterEach(async () => {
    await target.expectServes({ token: (channel) => rs256(good({ channels: [channel] })), publishHeaders: { authorization: `Bearer ${rs256(good())}` } });
  });

  const hmacWith = (key: string | Buffer, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256') => (claims: Record<string, unknown>) =>
    rawToken({ alg, typ: 'JWT' }, claims, (input) => createHmac(`sha${alg.slice(2)}`, key).update(input).digest());

  it.each<[string, (claims: Record<string, unknown>) => string]>([
    ['HS256 keyed with the public key PEM (key confusion)', (claims) => hmacWith(pem)(claims)],
    ['HS256 keyed with the PEM without its final newline', (claims) => hmacWith(pem.trimEnd())(claims)],
    ['HS512 keyed with the public key PEM', (claims) => hmacWith(pem, 'HS512')(claims)],
    ['HS256 keyed with the DER bytes of the public key', (claims) => hmacWith(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'))(claims)],
    ['alg none', (claims) => rawToken({ alg: 'none', typ: 'JWT' }, claims)],
    ['RS256 signed by another private key', (claims) => rs256(claims, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
    ['HS256 with the test secret the other nodes use', (claims) => jwt.sign(claims, TEST_SECRET, { algorithm: 'HS256' })],
  ])('%s: 401 on the handshake (header and query) and on the ingest', async (_name, forge) => {
    const claims = good({ iss: undefined, aud: undefined });
    await expectEdge401(target, forge(claims));
    await expectIngest401(target, forge(claims));
  });
});
