/**
 * PROTOCOL.md section 2: the handshake checks in order (path, origin, token,
 * subprotocol), admission, and the `connected` frame.
 */
import { createHmac, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { hostname } from 'node:os';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, startHerald, type HeraldProcess } from '../support/herald.js';
import { httpGet, mediaTypeOf } from '../support/http.js';
import { clientToken, epochSeconds, rawToken } from '../support/tokens.js';
import { TestClient, refusedHandshake, type HandshakeFailure } from '../support/ws-client.js';

const ALLOWED = ['https://app.example.com', 'https://admin.example.com'];
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({
    env: {
      ALLOWED_ORIGINS: ALLOWED.join(','),
      NODE_ID: 'edge-handshake-1',
      // Everything is logged, so the test that looks for tokens in the logs sees it all.
      LOG_LEVEL: 'trace',
      WEBSOCKET_PING_INTERVAL: '15s',
      WEBSOCKET_READ_TIMEOUT: '45s',
    },
  });
});

afterAll(async () => {
  await herald?.stop();
});

function expectRefused(refused: HandshakeFailure, status: number, type: string): void {
  expect(refused.status).toBe(status);
  expect(mediaTypeOf(refused.contentType)).toBe('application/problem+json');
  expect(refused.body).toMatchObject({ type, status, title: expect.any(String) });
}

/** Opens, checks the connection is usable (subscribe answered), and closes. */
async function expectAccepted(url: string, options: Parameters<typeof TestClient.open>[1]): Promise<TestClient> {
  const client = await TestClient.open(url, options);
  const pong = await client.request('ping');
  expect(pong.type).toBe('pong');
  await client.close();
  return client;
}

describe('step 1: version in the path', () => {
  it('refuses an upgrade on any path but /v1/ws with 404 not-found', async () => {
    for (const path of ['/v2/ws', '/v1/ws/', '/v1/wss', '/ws', '/']) {
      const refused = await refusedHandshake(`ws://127.0.0.1:${herald.port}${path}`, { token: clientToken() });
      expectRefused(refused, 404, '/problems/not-found');
    }
  });

  it('checks the path before the origin and the token', async () => {
    const refused = await refusedHandshake(`ws://127.0.0.1:${herald.port}/v2/ws`, { headers: { origin: 'https://evil.example.com' } });
    expectRefused(refused, 404, '/problems/not-found');
  });

  it('accepts a query string on /v1/ws', async () => {
    await expectAccepted(`${herald.wsUrl}?client=test`, { token: clientToken() });
  });
});

describe('step 2: Origin with ALLOWED_ORIGINS', () => {
  it('accepts a listed origin', async () => {
    for (const origin of ALLOWED) await expectAccepted(herald.wsUrl, { token: clientToken(), headers: { origin } });
  });

  it('accepts a request without an Origin header (not a browser)', async () => {
    await expectAccepted(herald.wsUrl, { token: clientToken() });
  });

  it('refuses an origin that is not listed with 403 forbidden-origin and no upgrade', async () => {
    for (const origin of ['https://evil.example.com', 'http://app.example.com', 'https://app.example.com:8443', 'null']) {
      const refused = await refusedHandshake(herald.wsUrl, { token: clientToken(), headers: { origin } });
      expectRefused(refused, 403, '/problems/forbidden-origin');
    }
  });

  it('checks the origin before the token', async () => {
    const refused = await refusedHandshake(herald.wsUrl, { headers: { origin: 'https://evil.example.com' } });
    expectRefused(refused, 403, '/problems/forbidden-origin');
  });

  it('accepts any origin when ALLOWED_ORIGINS is * (nothing else set: default pingInterval, readTimeout and node)', async () => {
    const any = await startHerald({ env: { ALLOWED_ORIGINS: '*' } });
    try {
      for (const origin of ['https://evil.example.com', 'https://app.example.com', 'null']) {
        await expectAccepted(any.wsUrl, { token: clientToken(), headers: { origin } });
      }
      // Nothing else configured: the connected frame shows the defaults.
      const client = await TestClient.open(any.wsUrl, { token: clientToken() });
      expect(client.frames[0]!.data).toMatchObject({ pingInterval: 30_000, readTimeout: 60_000 });
      // NODE_ID defaults to the hostname plus a random suffix.
      const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 48);
      expect(client.frames[0]!.data.node).toMatch(new RegExp(`^${host.replace(/[.]/g, '\\.')}-\\w+$`));
      await client.close();
    } finally {
      await any.stop();
    }
  });
});

describe('step 3: authentication before the upgrade', () => {
  const bad: Array<[string, () => { token?: string; headers?: Record<string, string>; tokenInQuery?: boolean }]> = [
    ['a missing token', () => ({})],
    ['an empty access_token', () => ({ token: '', tokenInQuery: true })],
    ['an Authorization header that is not Bearer', () => ({ headers: { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` } })],
    ['a malformed token (not a JWT)', () => ({ token: 'not-a-jwt' })],
    ['a malformed token (three garbage parts)', () => ({ token: 'aaa.bbb.ccc' })],
    ['a malformed token in the query', () => ({ token: 'garbage', tokenInQuery: true })],
    ['a token signed with another secret', () => ({ token: clientToken({}, {}, 'another-secret-0123456789abcdefgh') })],
    ['a token whose signature was tampered with', () => ({ token: clientToken().slice(0, -4) + 'AAAA' })],
    ['a token whose payload was changed', () => {
      const [header, , signature] = clientToken({ channels: ['merchant:m_1'] }).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'user-1', channels: ['*'], exp: epochSeconds(3600) })).toString('base64url');
      return { token: `${header}.${payload}.${signature}` };
    }],
    ['an expired token', () => ({ token: clientToken({ exp: epochSeconds(-60) }) })],
    ['a token that is not valid yet (nbf in the future)', () => ({ token: clientToken({ nbf: epochSeconds(300) }) })],
    ['an unsigned token (alg none)', () => ({ token: rawToken({ alg: 'none', typ: 'JWT' }, { sub: 'user-1', exp: epochSeconds(3600) }) })],
    ['an unsigned token (alg None)', () => ({ token: rawToken({ alg: 'None', typ: 'JWT' }, { sub: 'user-1', exp: epochSeconds(3600) }) })],
    ['a token with an algorithm not in JWT_ALGORITHMS (HS384 with the HS256 default)', () => ({ token: clientToken({}, { algorithm: 'HS384' }) })],
    ['a token with an algorithm not in JWT_ALGORITHMS (HS512)', () => ({ token: clientToken({}, { algorithm: 'HS512' }) })],
    ['a token whose channels claim is not an array of strings', () => ({ token: clientToken({ channels: 'merchant:m_1' as unknown as string[] }) })],
  ];

  for (const [name, options] of bad) {
    it(`refuses ${name} with 401 unauthorized and no upgrade`, async () => {
      const refused = await refusedHandshake(herald.wsUrl, options());
      expectRefused(refused, 401, '/problems/unauthorized');
    });
  }

  it('accepts a token in the Authorization header', async () => {
    await expectAccepted(herald.wsUrl, { token: clientToken() });
  });

  it('accepts a token in the access_token query parameter', async () => {
    await expectAccepted(herald.wsUrl, { token: clientToken(), tokenInQuery: true });
  });

  it('accepts a token without exp and without sub', async () => {
    const client = await expectAccepted(herald.wsUrl, { token: jwt.sign({ channels: ['merchant:m_1'] }, TEST_SECRET, { algorithm: 'HS256' }) });
    // No exp, no expiresAt (PROTOCOL.md section 11).
    expect(client.frames[0]!.data).not.toHaveProperty('expiresAt');
  });

  it('never writes a token to the logs', async () => {
    const refusedToken = clientToken({ sub: 'log-check', exp: epochSeconds(-60) });
    await refusedHandshake(herald.wsUrl, { token: refusedToken });
    await refusedHandshake(herald.wsUrl, { token: refusedToken, tokenInQuery: true });
    const goodToken = clientToken({ sub: 'log-check' });
    const client = await TestClient.open(herald.wsUrl, { token: goodToken, tokenInQuery: true });
    await client.close();
    // A request after the others: its log line (if any) follows theirs.
    await httpGet(`${herald.url}/nope?access_token=${goodToken}`);
    const output = herald.stdout.join('\n') + herald.stderr.join('');
    for (const token of [refusedToken, goodToken]) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.split('.')[2]!);
    }
  });

  describe('with JWT_ISSUER and JWT_AUDIENCE', () => {
    let scoped: HeraldProcess;
    beforeAll(async () => {
      scoped = await startHerald({ env: { JWT_ISSUER: 'https://issuer.example.com', JWT_AUDIENCE: 'herald-clients' } });
    });
    afterAll(async () => {
      await scoped?.stop();
    });

    it('accepts a token with the configured iss and aud', async () => {
      await expectAccepted(scoped.wsUrl, { token: clientToken({}, { issuer: 'https://issuer.example.com', audience: 'herald-clients' }) });
      await expectAccepted(scoped.wsUrl, { token: clientToken({ aud: ['other', 'herald-clients'] }, { issuer: 'https://issuer.example.com' }) });
    });

    for (const [name, claims] of [
      ['a wrong iss', { iss: 'https://evil.example.com', aud: 'herald-clients' }],
      ['a wrong aud', { iss: 'https://issuer.example.com', aud: 'someone-else' }],
      ['no iss', { aud: 'herald-clients' }],
      ['no aud', { iss: 'https://issuer.example.com' }],
    ] as const) {
      it(`refuses ${name} with 401 unauthorized`, async () => {
        const refused = await refusedHandshake(scoped.wsUrl, { token: clientToken({ ...claims }) });
        expectRefused(refused, 401, '/problems/unauthorized');
      });
    }
  });

  describe('with JWT_PUBLIC_KEY', () => {
    it('verifies RS256 tokens with an RSA public key and refuses other keys and HS256 key confusion', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const rsa = await startHerald({ env: { JWT_SECRET: undefined, JWT_PUBLIC_KEY: pem } });
      try {
        const claims = { sub: 'rsa-user', channels: ['merchant:m_1'] };
        await expectAccepted(rsa.wsUrl, { token: jwt.sign(claims, privateKey, { algorithm: 'RS256', expiresIn: 60 }) });
        const client = await TestClient.open(rsa.wsUrl, { token: jwt.sign(claims, privateKey, { algorithm: 'RS256', expiresIn: 60 }) });
        expect((await client.subscribe('merchant:m_1')).type).toBe('subscribed');
        await client.close();

        expectRefused(await refusedHandshake(rsa.wsUrl, { token: jwt.sign(claims, other.privateKey, { algorithm: 'RS256', expiresIn: 60 }) }), 401, '/problems/unauthorized');
        // The public key's PEM used as an HMAC secret: the classic algorithm confusion.
        const confused = rawToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: epochSeconds(60) }, (input) => createHmac('sha256', pem).update(input).digest());
        expectRefused(await refusedHandshake(rsa.wsUrl, { token: confused }), 401, '/problems/unauthorized');
        expectRefused(await refusedHandshake(rsa.wsUrl, { token: clientToken() }), 401, '/problems/unauthorized');
        expectRefused(
          await refusedHandshake(rsa.wsUrl, { token: rawToken({ alg: 'none', typ: 'JWT' }, { ...claims, exp: epochSeconds(60) }) }),
          401,
          '/problems/unauthorized',
        );
      } finally {
        await rsa.stop();
      }
    });

    it('verifies ES256 tokens with an EC public key', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const ec = await startHerald({ env: { JWT_SECRET: undefined, JWT_PUBLIC_KEY: pem } });
      try {
        await expectAccepted(ec.wsUrl, { token: jwt.sign({ sub: 'ec-user' }, privateKey, { algorithm: 'ES256', expiresIn: 60 }), tokenInQuery: true });
        // A raw (IEEE P1363) signature made by hand, as other JWT libraries do.
        const manual = rawToken({ alg: 'ES256', typ: 'JWT' }, { sub: 'ec-user', exp: epochSeconds(60) }, (input) =>
          cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }),
        );
        await expectAccepted(ec.wsUrl, { token: manual });
        const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        expectRefused(
          await refusedHandshake(ec.wsUrl, { token: jwt.sign({ sub: 'ec-user' }, other.privateKey, { algorithm: 'ES256', expiresIn: 60 }) }),
          401,
          '/problems/unauthorized',
        );
      } finally {
        await ec.stop();
      }
    });
  });
});

describe('step 4: subprotocol', () => {
  it('accepts v1.json and echoes it', async () => {
    const client = await expectAccepted(herald.wsUrl, { token: clientToken(), protocols: 'v1.json' });
    expect(client.socket.protocol).toBe('v1.json');
  });

  it('picks v1.json among several offered protocols', async () => {
    const client = await expectAccepted(herald.wsUrl, { token: clientToken(), protocols: ['v2.json', 'v1.json', 'mqtt'] });
    expect(client.socket.protocol).toBe('v1.json');
  });

  it('refuses a client that offers only unknown protocols with 400 unsupported-protocol', async () => {
    for (const protocols of [['v2.json'], ['mqtt', 'v1.msgpack'], ['V1.JSON']]) {
      const refused = await refusedHandshake(herald.wsUrl, { token: clientToken(), protocols });
      expectRefused(refused, 400, '/problems/unsupported-protocol');
    }
  });

  it('accepts a client that offers no protocol at all', async () => {
    const client = await expectAccepted(herald.wsUrl, { token: clientToken() });
    expect(client.socket.protocol).toBe('');
  });

  it('checks the token before the subprotocol', async () => {
    const refused = await refusedHandshake(herald.wsUrl, { protocols: ['mqtt'] });
    expectRefused(refused, 401, '/problems/unauthorized');
  });
});

describe('step 6: the connected frame', () => {
  it('is the first frame, with exactly the documented shape and the configured values', async () => {
    const exp = epochSeconds(3600);
    const client = await TestClient.connect(herald.wsUrl, { token: clientToken({ exp }), protocols: 'v1.json' });
    const first = await client.next();
    expect(Object.keys(first).sort()).toEqual(['data', 'id', 'timestamp', 'type']);
    expect(first.type).toBe('connected');
    expect(first.id).toEqual(expect.any(String));
    expect(first.id.length).toBeGreaterThan(0);
    expect(first.timestamp).toMatch(ISO_MS);
    expect(Math.abs(Date.parse(first.timestamp) - Date.now())).toBeLessThan(10_000);
    // expiresAt (PROTOCOL.md section 11): the token's exp, because it has one.
    expect(Object.keys(first.data).sort()).toEqual(['connectionId', 'expiresAt', 'node', 'pingInterval', 'readTimeout']);
    expect(first.data).toEqual({ connectionId: expect.any(String), node: 'edge-handshake-1', pingInterval: 15_000, readTimeout: 45_000, expiresAt: new Date(exp * 1000).toISOString() });
    expect(first.data.connectionId.length).toBeGreaterThan(0);

    const second = await TestClient.open(herald.wsUrl, { token: clientToken() });
    const connected = second.frames[0]!;
    expect(connected.data.connectionId).not.toBe(first.data.connectionId);
    expect(connected.id).not.toBe(first.id);
    await client.close();
    await second.close();
  });
});

/** Reads the edge's connection gauge: there is no event for "the server saw the close". */
async function serverConnections(url: string): Promise<number> {
  const metrics = await httpGet(`${url}/metrics`);
  const match = /^herald_edge_connections(?:\{[^}]*\})? (\d+)$/m.exec(metrics.text);
  if (!match) throw new Error('herald_edge_connections not in /metrics');
  return Number(match[1]);
}

async function waitForServerConnections(url: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await serverConnections(url)) !== count) {
    if (Date.now() > deadline) throw new Error(`the server did not get to ${count} connections`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function expectAdmissionRefused(url: string, token: string): Promise<void> {
  const client = await TestClient.connect(url, { token, protocols: 'v1.json' });
  const { code } = await client.closed;
  expect(code).toBe(1013);
  expect(client.frames).toHaveLength(1);
  const frame = client.frames[0]!;
  expect(Object.keys(frame)).toEqual(['type', 'error', 'timestamp']);
  expect(frame.type).toBe('error');
  expect(frame.error).toEqual({ type: '/problems/reach-maximum-connections', message: 'Maximum number of connections reached' });
  expect(frame.timestamp).toMatch(ISO_MS);
}

describe('step 5: admission', () => {
  it('MAX_CONNECTIONS: over the limit the upgrade completes, one exact error frame, close 1013; refusals are never counted', async () => {
    const limited = await startHerald({ env: { MAX_CONNECTIONS: '2' } });
    try {
      const first = await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'a' }) });
      const second = await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'b' }) });
      for (let i = 0; i < 3; i++) await expectAdmissionRefused(limited.wsUrl, clientToken({ sub: `c${i}` }));
      expect(await serverConnections(limited.url)).toBe(2);

      // Closing one admitted connection frees exactly one place.
      await first.close();
      await waitForServerConnections(limited.url, 1);
      const third = await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'd' }) });
      expect((await third.request('ping')).type).toBe('pong');
      await expectAdmissionRefused(limited.wsUrl, clientToken({ sub: 'e' }));
      // The admitted ones are untouched by the refusals.
      expect((await second.request('ping')).type).toBe('pong');
      await second.close();
      await third.close();
    } finally {
      await limited.stop();
    }
  });

  it('MAX_CONNECTIONS_PER_USER counts connections by the token sub', async () => {
    const limited = await startHerald({ env: { MAX_CONNECTIONS_PER_USER: '2' } });
    try {
      const alice = [
        await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'alice' }) }),
        await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'alice' }), tokenInQuery: true }),
      ];
      await expectAdmissionRefused(limited.wsUrl, clientToken({ sub: 'alice' }));
      // Another user is not affected.
      const bob = await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'bob' }) });
      const bob2 = await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'bob' }) });
      await expectAdmissionRefused(limited.wsUrl, clientToken({ sub: 'bob' }));
      // One of alice's connections leaves: alice may connect once more, not twice.
      await alice[0]!.close();
      await waitForServerConnections(limited.url, 3);
      const again = await TestClient.open(limited.wsUrl, { token: clientToken({ sub: 'alice' }) });
      await expectAdmissionRefused(limited.wsUrl, clientToken({ sub: 'alice' }));
      for (const client of [alice[1]!, bob, bob2, again]) await client.close();
    } finally {
      await limited.stop();
    }
  });
});
