/**
 * Input hardening, tokens: a claims set that is not a JSON object is refused on the edge
 * and on the ingest alike (RFC 7519 section 7.2), and the operator's lifetime rules
 * JWT_REQUIRE_EXP and JWT_MAX_TTL hold on both.
 */
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, startHerald, type HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import { clientToken, epochSeconds } from '../support/tokens.js';
import { refusedHandshake } from '../support/ws-client.js';
import { created, expectProblem, freshKeys } from '../ingest/helpers.js';
import { expectStillServes } from './support.js';

/** A correctly signed HS256 token whose payload is any JSON text. */
function signedPayload(payload: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(payload).toString('base64url');
  const signature = createHmac('sha256', TEST_SECRET).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

async function expectHandshake401(herald: HeraldProcess, token: string, tokenInQuery = false): Promise<void> {
  const refused = await refusedHandshake(herald.wsUrl, { token, tokenInQuery });
  expect(refused.status).toBe(401);
  expect(refused.contentType?.split(';')[0]).toBe('application/problem+json');
  expect(refused.body).toMatchObject({ type: '/problems/unauthorized', status: 401 });
}

async function expectIngest401(herald: HeraldProcess, token: string): Promise<void> {
  const answer = await publish(herald.url, created(freshKeys()), { authorization: `Bearer ${token}` });
  expectProblem(answer, 401, '/problems/unauthorized');
}

describe('claims that are not a JSON object', () => {
  let herald: HeraldProcess;
  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it.each(['[1,2]', '42', 'true', 'null', '"merchant:m_1"'])('payload %s: 401 on the edge (header and query) and on the ingest', async (payload) => {
    const token = signedPayload(payload);
    await expectHandshake401(herald, token);
    await expectHandshake401(herald, token, true);
    await expectIngest401(herald, token);
  });

  it('a signed object payload still connects and publishes, after all the refusals', async () => {
    await expectStillServes(herald);
  });
});

describe('JWT_REQUIRE_EXP and JWT_MAX_TTL', () => {
  let herald: HeraldProcess;
  beforeAll(async () => {
    herald = await startHerald({ env: { JWT_REQUIRE_EXP: 'true', JWT_MAX_TTL: '1h' } });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('refuses a token without exp on both services', async () => {
    const noExp = jwt.sign({ sub: 'user-1', channels: ['merchant:*'], scope: 'events:publish' }, TEST_SECRET, { algorithm: 'HS256' });
    await expectHandshake401(herald, noExp);
    await expectIngest401(herald, noExp);
  });

  it('refuses a token living longer than JWT_MAX_TTL, by exp - iat, on both services', async () => {
    const long = clientToken({ channels: ['merchant:*'], scope: 'events:publish', iat: epochSeconds(), exp: epochSeconds(3601) });
    await expectHandshake401(herald, long);
    await expectIngest401(herald, long);
  });

  it('accepts a token within the limits (the default test tokens live 1h)', async () => {
    await expectStillServes(herald);
  });
});
