/**
 * Security, logs: credentials are sent to a real edge and ingest (LOG_LEVEL=trace, a
 * password-protected redis-server, static ingest keys) everywhere a careless server
 * might log them: the query string of good, refused and unknown requests, Authorization
 * headers of refused requests, the subprotocol header, command frames; none may appear
 * in any log line (PROTOCOL.md section 2.3). support/herald.ts scans every process the
 * suite stops the same way (log-scan.ts); here the scan is asserted while the processes
 * run, right after the attempts, and the processes then stop clean.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_SECRET, runHerald } from '../support/herald.js';
import { httpGet } from '../support/http.js';
import { publish } from '../support/ingest.js';
import { logLines, scanLogs, secretsOf } from '../support/log-scan.js';
import { rawRequest, upgradeRequest } from '../support/raw-http.js';
import { clientToken, epochSeconds, publisherToken, rawToken } from '../support/tokens.js';
import { TestClient, refusedHandshake } from '../support/ws-client.js';
import { created, freshKeys, rawPost, unique } from '../ingest/helpers.js';
import { startTarget, type Target } from './support.js';

const API_KEY = `logs-ingest-key-${process.pid}-0123456789`;
const ADMIN_KEY = `logs-admin-key-${process.pid}-0123456789`;
const REDIS_PASSWORD = `logs-redis-pw-${process.pid}-0123456789`;
let target: Target;

beforeAll(async () => {
  target = await startTarget({
    label: 'sec-logs',
    redisPassword: REDIS_PASSWORD,
    env: { LOG_LEVEL: 'trace' },
    ingestEnv: { INGEST_API_KEYS: `${API_KEY},second-key-${process.pid}-abcdefgh`, ADMIN_API_KEYS: ADMIN_KEY },
  });
});

afterAll(async () => {
  // Stopping scans each process's whole output once more (support/herald.ts).
  await target?.stop();
});

it('tokens and keys sent everywhere a server might log them appear in no log line', async () => {
  const { edge, ingest } = target;
  const good = clientToken({ sub: unique('logs'), channels: ['merchant:*'] });
  const expired = clientToken({ sub: 'logs-expired', exp: epochSeconds(-60) });
  const forged = clientToken({ sub: 'logs-forged' }, {}, 'a-wrong-secret-0123456789abcdef');
  const none = rawToken({ alg: 'none', typ: 'JWT' }, { sub: 'logs-none', channels: ['*'] });
  const noScope = jwt.sign({ sub: 'logs-no-scope' }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 60 });

  // The edge: tokens in the query and the header, accepted and refused, on every path.
  const client = await TestClient.open(edge.wsUrl, { token: good, tokenInQuery: true });
  expect((await client.subscribe(`merchant:${unique('m_logs')}`)).type).toBe('subscribed');
  // Commands carrying a token: as the refresh token, as a channel name, as an id.
  client.send({ type: 'refresh', id: 'r1', data: { token: forged } } as never);
  client.send({ type: 'subscribe', id: 'r2', data: { channel: good } });
  client.send({ type: 'subscribe', id: good.slice(0, 64), data: { channel: 'merchant:m_1' } });
  client.send(`{"type":"nope","token":"${good}"}`);
  // (refresh is another change's work in progress: its answer, if any, is not awaited.)
  await client.next((frame) => frame.replyTo === 'r2');
  expect((await client.request('ping')).type).toBe('pong');
  await client.close();
  // Frames the WebSocket layer refuses, holding the token: logged (at debug) as errors.
  const utf8 = await TestClient.open(edge.wsUrl, { token: good });
  utf8.sendRaw(Buffer.concat([Buffer.from(`{"token":"${good}`), Buffer.from([0xff]), Buffer.from('"}')]));
  expect((await utf8.closed).code).toBe(1007);
  const big = await TestClient.open(edge.wsUrl, { token: good, tokenInQuery: true });
  big.send(JSON.stringify({ type: 'ping', token: good, pad: 'x'.repeat(70 * 1024) }));
  expect((await big.closed).code).toBe(1009);
  for (const token of [expired, forged, none, `${good}x`]) {
    expect((await refusedHandshake(edge.wsUrl, { token })).status).toBe(401);
    expect((await refusedHandshake(edge.wsUrl, { token, tokenInQuery: true })).status).toBe(401);
  }
  expect((await refusedHandshake(`${edge.url.replace('http', 'ws')}/v2/ws`, { token: good, tokenInQuery: true })).status).toBe(404);
  expect((await refusedHandshake(edge.wsUrl, { token: good, protocols: 'v9.nope' })).status).toBe(400);
  expect((await refusedHandshake(edge.wsUrl, { headers: { authorization: `Basic ${Buffer.from(`user:${API_KEY}`).toString('base64')}` } })).status).toBe(401);
  // The token as a subprotocol (some browser clients smuggle it there): refused, not logged.
  expect((await refusedHandshake(edge.wsUrl, { protocols: ['v1.json', good.replace(/\./g, '_')] })).status).toBe(401);
  for (const path of ['/healthz', '/readyz', '/metrics', '/nope', '/v1/ws']) await httpGet(`${edge.url}${path}?access_token=${good}&api_key=${API_KEY}`, { headers: { authorization: `Bearer ${good}` } });
  await rawRequest(edge.port, upgradeRequest(`/v1/ws?access_token=${good}`, { 'Sec-WebSocket-Key': 'bad' }));
  await rawRequest(edge.port, `GET /v1/ws?access_token=${good} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`);

  // The ingest: refused bearers, keys in the query and in odd headers, refused bodies holding keys.
  for (const bearer of [expired, forged, none, noScope, API_KEY.slice(0, -1), ADMIN_KEY, `${API_KEY} ${good}`]) {
    expect((await publish(ingest.url, created(freshKeys()), { authorization: `Bearer ${bearer}` })).status).toBe(401);
  }
  expect((await publish(ingest.url, created(freshKeys()), { authorization: `Basic ${Buffer.from(`producer:${API_KEY}`).toString('base64')}` })).status).toBe(401);
  expect((await publish(ingest.url, created(freshKeys()), { authorization: `Bearer ${API_KEY}` })).status).toBe(202);
  const invalid = created(freshKeys(), {}, { status: good, note: API_KEY, currency: 42 });
  expect((await publish(ingest.url, invalid)).status).toBe(422);
  expect((await rawPost(`${ingest.url}/v1/events?access_token=${good}&key=${API_KEY}`, 'not json', { 'content-type': 'application/json', authorization: `Bearer ${good}`, 'x-api-key': API_KEY })).status).toBe(401);
  expect((await rawPost(`${ingest.url}/v1/events`, 'not json', { 'content-type': 'application/json', authorization: `Bearer ${publisherToken()}` })).status).toBe(400);
  expect((await rawPost(`${ingest.url}/v2/events?access_token=${good}`, '{}', { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` })).status).toBe(404);
  await httpGet(`${ingest.url}/v1/events?access_token=${good}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  // An admin request, if the ingest serves that route; any answer will do, only the logs matter.
  await rawPost(`${ingest.url}/v1/users/logs-user:disconnect?key=${ADMIN_KEY}`, '{}', { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` });
  await target.expectServes();

  for (const herald of [edge, ingest]) {
    const lines = logLines(herald.stdout, herald.stderr);
    // Not vacuous: at trace level both processes logged, and the scan looks for their secrets.
    expect(lines.length).toBeGreaterThan(herald === edge ? 3 : 1);
    expect(secretsOf({ JWT_SECRET: TEST_SECRET, INGEST_API_KEYS: API_KEY, ADMIN_API_KEYS: ADMIN_KEY, REDIS_URL: `redis://:${REDIS_PASSWORD}@h:1` })).toHaveLength(4);
    expect(herald.leaks()).toEqual([]);
    // The values sent above, searched literally as well (the scan's JWT pattern aside).
    const text = lines.map((line) => line.text).join('\n');
    for (const secret of [good, expired, forged, none, noScope, API_KEY, ADMIN_KEY, REDIS_PASSWORD, TEST_SECRET]) expect(text).not.toContain(secret);
    expect(scanLogs(lines, [{ name: 'sent token', value: good.split('.')[2]! }])).toEqual([]);
  }
});

it('an edge given a wrong Redis password logs the refusal, not the password', async () => {
  const wrong = `wrong-redis-pw-${process.pid}-0123456789`;
  const env = { JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'trace', REDIS_KEY_PREFIX: 'sec-logs-wrong-pw', REDIS_URL: `redis://:${wrong}@${target.redis.host}:${target.redis.port}` };
  // It never becomes ready: run it for two seconds, then it is killed, and read what it wrote.
  const run = await runHerald(['edge'], env, 2_000);
  const lines = logLines(run.stdout.split('\n'), [run.stderr]);
  expect(lines.some((line) => line.text.includes('WRONGPASS')), run.stdout.slice(0, 500)).toBe(true);
  expect(scanLogs(lines, secretsOf(env))).toEqual([]);
  expect(run.stdout + run.stderr).not.toContain(wrong);
});
