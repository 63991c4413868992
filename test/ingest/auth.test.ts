/**
 * PROTOCOL.md section 7, authentication: `Authorization: Bearer <token>` where the token
 * is a JWT whose space-separated `scope` claim holds `events:publish`, or one of the
 * static INGEST_API_KEYS. Anything else: 401 /problems/unauthorized, nothing published.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, startHerald, type HeraldProcess } from '../support/herald.js';
import { post, publish, publishBatch } from '../support/ingest.js';
import { clientToken, publisherToken, rawToken } from '../support/tokens.js';
import { created, expectAccepted, expectProblem, freshKeys, rawPost } from './helpers.js';

const KEYS = ['ingest-key-one-7f3a9c', 'ingest-key-two-b21d04', 'ingest-key-three-0e55aa'];

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({ env: { INGEST_API_KEYS: KEYS.join(', ') } });
});

afterAll(async () => {
  await herald?.stop();
});

function signed(payload: Record<string, unknown>, options: jwt.SignOptions = {}, secret = TEST_SECRET): string {
  return jwt.sign({ sub: 'producer', ...payload }, secret, { algorithm: 'HS256', expiresIn: 3600, ...options });
}

function event(): Record<string, unknown> {
  return created(freshKeys());
}

/** Every credential a test presented, to check that none reaches the logs. */
const presented = new Set<string>();

/** Publishes with `authorization` (or none) and asserts 401; then proves nothing was published. */
async function expectUnauthorized(authorization: string | undefined): Promise<void> {
  if (authorization !== undefined) presented.add(authorization.replace(/^\S+\s+/, ''));
  const body = event();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const answer = await rawPost(`${herald.url}/v1/events`, JSON.stringify(body), headers);
  expectProblem(answer, 401, '/problems/unauthorized');
  // The refused event was neither published nor remembered: the same id is new.
  expectAccepted(await publish(herald.url, body), false);
}

describe('section 7: ingest authentication', () => {
  it('refuses a request without an Authorization header', async () => {
    await expectUnauthorized(undefined);
  });

  it('refuses a scheme other than Bearer, even with a valid token or key', async () => {
    await expectUnauthorized(`Basic ${Buffer.from(`producer:${KEYS[0]}`).toString('base64')}`);
    await expectUnauthorized(`Token ${publisherToken()}`);
    await expectUnauthorized(KEYS[0]);
    await expectUnauthorized(publisherToken());
  });

  it('refuses an empty bearer token', async () => {
    await expectUnauthorized('Bearer');
    await expectUnauthorized('Bearer ');
  });

  it('refuses a malformed or badly signed JWT', async () => {
    await expectUnauthorized('Bearer not-a-jwt');
    await expectUnauthorized('Bearer a.b.c');
    await expectUnauthorized(`Bearer ${signed({ scope: 'events:publish' }, {}, 'another-secret-of-some-length-0123')}`);
    // A valid token with one character of its signature changed.
    const token = publisherToken();
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    await expectUnauthorized(`Bearer ${token.slice(0, -2)}${last}${token.at(-1)}`);
  });

  it('refuses an unsigned JWT (alg none)', async () => {
    await expectUnauthorized(`Bearer ${rawToken({ alg: 'none', typ: 'JWT' }, { sub: 'producer', scope: 'events:publish', exp: Math.floor(Date.now() / 1000) + 3600 })}`);
  });

  it('refuses a JWT that is not valid yet (nbf) or signed with an algorithm not allowed', async () => {
    await expectUnauthorized(`Bearer ${signed({ scope: 'events:publish', nbf: Math.floor(Date.now() / 1000) + 600 })}`);
    await expectUnauthorized(`Bearer ${signed({ scope: 'events:publish' }, { algorithm: 'HS512' })}`);
  });

  it('refuses a JWT without the events:publish scope', async () => {
    await expectUnauthorized(`Bearer ${signed({})}`);
    await expectUnauthorized(`Bearer ${signed({ scope: '' })}`);
    await expectUnauthorized(`Bearer ${signed({ scope: 'events:read' })}`);
    await expectUnauthorized(`Bearer ${signed({ scope: 'events:publisher events:publish-all' })}`);
    await expectUnauthorized(`Bearer ${signed({ scope: 'EVENTS:PUBLISH' })}`);
    // A client token (channels grant, no scope) cannot publish.
    await expectUnauthorized(`Bearer ${clientToken({ channels: ['merchant:*'] })}`);
  });

  it('refuses an expired JWT, even with the right scope', async () => {
    const expired = jwt.sign({ sub: 'producer', scope: 'events:publish', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRET, { algorithm: 'HS256' });
    await expectUnauthorized(`Bearer ${expired}`);
  });

  it('refuses an API key that is not configured, or only part of one', async () => {
    await expectUnauthorized('Bearer ingest-key-four-000000');
    await expectUnauthorized(`Bearer ${KEYS[0]!.slice(0, -1)}`);
    await expectUnauthorized(`Bearer ${KEYS[0]}x`);
    await expectUnauthorized(`Bearer ${KEYS.join(',')}`);
  });

  it('accepts a JWT whose scope is exactly events:publish', async () => {
    expectAccepted(await publish(herald.url, event(), { authorization: `Bearer ${publisherToken()}` }));
  });

  it('accepts a JWT whose space-separated scope contains events:publish among others', async () => {
    expectAccepted(await publish(herald.url, event(), { authorization: `Bearer ${signed({ scope: 'events:publish other' })}` }));
    expectAccepted(await publish(herald.url, event(), { authorization: `Bearer ${signed({ scope: 'events:read events:publish admin' })}` }));
  });

  it('accepts every configured static key', async () => {
    for (const key of KEYS) {
      expectAccepted(await publish(herald.url, event(), { authorization: `Bearer ${key}` }));
    }
  });

  it('applies the same rules to the batch endpoint', async () => {
    const refused = await post(`${herald.url}/v1/events:batch`, { events: [event()] }, { authorization: 'Bearer wrong-key' });
    expectProblem(refused, 401, '/problems/unauthorized');
    const noHeader = await rawPost(`${herald.url}/v1/events:batch`, JSON.stringify({ events: [event()] }), { 'content-type': 'application/json' });
    expectProblem(noHeader, 401, '/problems/unauthorized');
    const withKey = await publishBatch(herald.url, [event()], { authorization: `Bearer ${KEYS[1]}` });
    expect(withKey.status).toBe(207);
  });

  it('never writes a presented token or key to the logs', async () => {
    presented.add(publisherToken());
    // Answer a request after the others so that their log lines are out.
    expectAccepted(await publish(herald.url, event()));
    const output = herald.stdout.join('\n') + herald.stderr.join('');
    const secrets = [...presented, ...KEYS].filter((value) => value.length >= 16);
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(output).not.toContain(secret);
  });

  it('authenticates before looking at the body', async () => {
    const answer = await rawPost(`${herald.url}/v1/events`, 'not json at all', { 'content-type': 'text/plain' });
    expectProblem(answer, 401, '/problems/unauthorized');
  });
});
