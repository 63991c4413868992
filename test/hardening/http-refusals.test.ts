/**
 * Input hardening, HTTP: every refusal is an RFC 9457 problem document written by
 * Herald (PROTOCOL.md section 1), including those Node's parser and `ws` used to answer
 * on their own: headers too large (431), a URL too long (414), a WebSocket version
 * other than 13 (426 with `Sec-WebSocket-Version: 13`), a bad WebSocket key (400) and
 * ambiguous message lengths (400). The connection is closed after each, and the node
 * still serves. Headers that never finish (slowloris, 408) and oversized tokens are in
 * test/security.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { rawRequest, upgradeRequest } from '../support/raw-http.js';
import { clientToken, publisherToken } from '../support/tokens.js';
import { expectRawProblem, expectStillServes } from './support.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald();
});

afterAll(async () => {
  await herald?.stop();
});

const token = (): string => clientToken({ channels: ['merchant:*'] });

// Oversized tokens (431, and 401 over 8 KiB) are attacks: test/security/jwt.test.ts.
describe('sizes', () => {
  it('a URL over 8 KiB but within the header limit: 414 uri-too-long, for upgrades and plain requests', async () => {
    const path = `/v1/ws?access_token=${token()}&pad=${'p'.repeat(9 * 1024)}`;
    expectRawProblem(await rawRequest(herald.port, upgradeRequest(path)), 414, '/problems/uri-too-long');
    expectRawProblem(await rawRequest(herald.port, `GET /healthz?pad=${'p'.repeat(9 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`), 414, '/problems/uri-too-long');
  });
});

describe('the WebSocket request itself (RFC 6455 section 4.2)', () => {
  it.each([
    ['missing', undefined],
    ['12', '12'],
    ['abc', 'abc'],
    ['8 (an old draft ws still speaks)', '8'],
    ['13, 8', '13, 8'],
  ])('Sec-WebSocket-Version %s: 426 upgrade-required naming version 13', async (_name, version) => {
    const answer = await rawRequest(herald.port, upgradeRequest('/v1/ws', { Authorization: `Bearer ${token()}`, 'Sec-WebSocket-Version': version }));
    expectRawProblem(answer, 426, '/problems/upgrade-required');
    expect(answer.headers['sec-websocket-version']).toBe('13');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['15 bytes', Buffer.alloc(15, 1).toString('base64')],
    ['17 bytes', Buffer.alloc(17, 1).toString('base64')],
    ['not base64', '!!!!!!!!!!!!!!!!!!!!!!=='],
  ])('Sec-WebSocket-Key %s: 400 invalid-request', async (_name, key) => {
    const answer = await rawRequest(herald.port, upgradeRequest('/v1/ws', { Authorization: `Bearer ${token()}`, 'Sec-WebSocket-Key': key }));
    expectRawProblem(answer, 400, '/problems/invalid-request');
  });

  it('an upgrade to something else than websocket: 400 invalid-request', async () => {
    const answer = await rawRequest(herald.port, upgradeRequest('/v1/ws', { Authorization: `Bearer ${token()}`, Upgrade: 'h2c' }));
    expectRawProblem(answer, 400, '/problems/invalid-request');
  });

  it('a malformed Sec-WebSocket-Protocol: 400 invalid-request', async () => {
    const answer = await rawRequest(herald.port, upgradeRequest('/v1/ws', { Authorization: `Bearer ${token()}`, 'Sec-WebSocket-Protocol': 'v1.json,,v1.json' }));
    expectRawProblem(answer, 400, '/problems/invalid-request');
  });

  it('a correct request with version 13 still upgrades (101)', async () => {
    const answer = await rawRequest(herald.port, upgradeRequest('/v1/ws', { Authorization: `Bearer ${token()}` }), { untilHeaders: true });
    expect(answer.status).toBe(101);
  });
});

describe('requests the HTTP parser refuses', () => {
  it('Content-Length with Transfer-Encoding: 400 invalid-request, connection closed', async () => {
    const body = '{"events":[]}';
    const request =
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${publisherToken()}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    expectRawProblem(await rawRequest(herald.port, request), 400, '/problems/invalid-request');
  });

  it('two different Content-Length headers: 400 invalid-request, connection closed', async () => {
    const request = `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${publisherToken()}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}`;
    expectRawProblem(await rawRequest(herald.port, request), 400, '/problems/invalid-request');
  });

  it('a request line that is not HTTP: 400 invalid-request', async () => {
    expectRawProblem(await rawRequest(herald.port, 'HELLO\r\n\r\n'), 400, '/problems/invalid-request');
  });
});

it('after every refusal above, the node still serves a subscriber and a publisher', async () => {
  await expectStillServes(herald);
});
