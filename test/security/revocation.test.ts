/**
 * PROTOCOL.md section 11, revocation: `POST /v1/users/{sub}:disconnect` on the ingest
 * closes every connection of that `sub` on every edge within a second (error
 * `/problems/unauthorized` "Session revoked", then 1008), leaves other users alone, and
 * from then on refuses handshakes and refreshes with that sub's tokens issued before the
 * instant, until REVOCATION_TTL has passed. On `herald start` (memory), two edges on one
 * Redis, and two edges on a Redis Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, disconnectUser, firstIatAfter, tokenIssuedAt, tokenWithoutIat } from '../support/admin.js';
import { startCluster, waitUntil, type Cluster } from '../support/cluster.js';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { mediaTypeOf } from '../support/http.js';
import { startRedis, startRedisCluster, type RedisClusterHandle, type RedisServer } from '../support/redis.js';
import { clientToken, epochSeconds, publisherToken } from '../support/tokens.js';
import { TestClient, refusedHandshake } from '../support/ws-client.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ADMIN_KEY = 'admin-key-0123456789';
const INGEST_KEY = 'ingest-key-0123456789';
let userCounter = 0;

/** A sub no other test uses. */
function user(label: string): string {
  return `${label}-${process.pid}-${++userCounter}`;
}

/** Every client is closed 1008 after the error "Session revoked", within a second of `startedAt`. */
async function expectRevoked(clients: readonly TestClient[], startedAt: number): Promise<void> {
  for (const client of clients) {
    const closed = await client.closed;
    const elapsed = Date.now() - startedAt;
    expect(closed.code).toBe(1008);
    expect(elapsed).toBeLessThan(1_000);
    const error = client.frames.at(-1)!;
    expect(error).toMatchObject({ type: 'error', error: { type: '/problems/unauthorized', message: 'Session revoked' } });
  }
}

async function expectStillOpen(client: TestClient): Promise<void> {
  await client.sync();
  expect(client.socket.readyState).toBe(client.socket.OPEN);
}

/** The scenario every topology runs: two edges (or one), one ingest. */
async function revokesEverywhere(edges: readonly HeraldProcess[], ingest: HeraldProcess): Promise<void> {
  const alice = user('alice');
  const bob = user('bob');
  const aliceToken = clientToken({ sub: alice, channels: ['merchant:*'] });
  const aliceClients = await Promise.all(edges.flatMap((edge) => [TestClient.open(edge.wsUrl, { token: aliceToken }), TestClient.open(edge.wsUrl, { token: aliceToken, codec: 'protobuf', protocols: 'v1.protobuf' })]));
  const bobClients = await Promise.all(edges.map((edge) => TestClient.open(edge.wsUrl, { token: clientToken({ sub: bob }) })));
  for (const client of aliceClients) expect((await client.subscribe('merchant:m_1')).type).toBe('subscribed');

  const startedAt = Date.now();
  const answer = await disconnectUser(ingest.url, alice);
  expect(answer.status).toBe(202);
  expect(answer.body).toEqual({ sub: alice, revokeTokensIssuedBefore: expect.stringMatching(ISO_MS) });
  const before = Date.parse(answer.body.revokeTokensIssuedBefore);
  expect(before).toBeGreaterThanOrEqual(startedAt - 5);
  expect(before).toBeLessThanOrEqual(Date.now());
  await expectRevoked(aliceClients, startedAt);
  for (const client of bobClients) await expectStillOpen(client);

  // Every edge refuses the old token, and a token minted in the revocation's second, at the handshake...
  for (const edge of edges) {
    const refused = await refusedHandshake(edge.wsUrl, { token: aliceToken });
    expect(refused.status).toBe(401);
    expect(refused.body.type).toBe('/problems/unauthorized');
    expect((await refusedHandshake(edge.wsUrl, { token: tokenIssuedAt(firstIatAfter(before) - 1, { sub: alice }) })).status).toBe(401);
    expect((await refusedHandshake(edge.wsUrl, { token: tokenWithoutIat({ sub: alice }) })).status).toBe(401);
  }
  // ...and accepts one minted after it; a refresh back to an old token is refused.
  const fresh = tokenIssuedAt(firstIatAfter(before), { sub: alice, channels: ['merchant:*'] });
  for (const edge of edges) {
    const client = await TestClient.open(edge.wsUrl, { token: fresh });
    const refused = await client.request('refresh', { token: aliceToken });
    expect(refused).toMatchObject({ type: 'error', error: { type: '/problems/unauthorized' } });
    expect(refused.error.message).toMatch(/revoked/);
    expect((await client.subscribe('merchant:m_1')).type).toBe('subscribed');
    await client.close();
  }
  for (const client of bobClients) await client.close();
}

describe('herald start (in memory)', () => {
  let herald: HeraldProcess;
  beforeAll(async () => {
    herald = await startHerald({ env: { ADMIN_API_KEYS: ADMIN_KEY, INGEST_API_KEYS: INGEST_KEY } });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('closes every connection of the sub within a second, refuses its old tokens, lets others be', async () => {
    await revokesEverywhere([herald], herald);
  });

  it('authenticates: no bearer 401, ingest keys and publish tokens 403, admin keys and admin tokens 202', async () => {
    const sub = user('auth');
    const none = await disconnectUser(herald.url, sub, { bearer: null });
    expect(none.status).toBe(401);
    expect(mediaTypeOf(none.contentType)).toBe('application/problem+json');
    expect(none.body).toMatchObject({ type: '/problems/unauthorized', status: 401 });
    expect((await disconnectUser(herald.url, sub, { bearer: 'not-a-key' })).status).toBe(401);
    expect((await disconnectUser(herald.url, sub, { bearer: adminToken({ exp: epochSeconds(-10) }) })).status).toBe(401);
    for (const bearer of [INGEST_KEY, publisherToken(), clientToken({ sub })]) {
      const forbidden = await disconnectUser(herald.url, sub, { bearer });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toMatchObject({ type: '/problems/forbidden', status: 403 });
    }
    expect((await disconnectUser(herald.url, sub, { bearer: ADMIN_KEY })).status).toBe(202);
    expect((await disconnectUser(herald.url, sub, { bearer: adminToken() })).status).toBe(202);
  });

  it('takes revokeTokensIssuedBefore: echoed with milliseconds; a future instant or a bad body is 422 invalid-request', async () => {
    const sub = user('instant');
    // Given without milliseconds (and in another zone), answered in UTC with milliseconds.
    const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const given = await disconnectUser(herald.url, sub, { body: { revokeTokensIssuedBefore: past.toISOString().replace('.000Z', '+00:00') } });
    expect(given.status).toBe(202);
    expect(given.body).toEqual({ sub, revokeTokensIssuedBefore: past.toISOString() });
    // A token minted after that instant (a minute ago) still connects.
    await (await TestClient.open(herald.wsUrl, { token: clientToken({ sub }) })).close();

    const future = await disconnectUser(herald.url, sub, { body: { revokeTokensIssuedBefore: new Date(Date.now() + 60_000).toISOString() } });
    expect(future.status).toBe(422);
    expect(future.body).toMatchObject({ type: '/problems/invalid-request', status: 422 });
    for (const body of [{ revokeTokensIssuedBefore: 'yesterday' }, { revokeTokensIssuedBefore: 12 }, { other: true }, []]) {
      const refused = await disconnectUser(herald.url, sub, { body });
      expect(refused.status).toBe(422);
      expect(refused.body.type).toBe('/problems/invalid-request');
    }
    expect((await disconnectUser(herald.url, sub, { body: '{"revokeTokensIssuedBefore":' })).status).toBe(400);
    expect((await disconnectUser(herald.url, sub, { body: {} })).status).toBe(202);
    const get = await fetch(`${herald.url}/v1/users/${sub}:disconnect`);
    expect(get.status).toBe(405);
  });
});

describe('REVOCATION_TTL', () => {
  let herald: HeraldProcess;
  beforeAll(async () => {
    herald = await startHerald({ env: { REVOCATION_TTL: '2s' } });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('refuses the old token until the revocation is older than REVOCATION_TTL, then accepts it again', async () => {
    const sub = user('ttl');
    const token = clientToken({ sub });
    const answer = await disconnectUser(herald.url, sub);
    const revokedAt = Date.now();
    expect(answer.status).toBe(202);
    expect((await refusedHandshake(herald.wsUrl, { token })).status).toBe(401);
    // Nothing announces a lapse: poll the handshake.
    let acceptedAt = 0;
    await waitUntil(
      async () => {
        try {
          await (await TestClient.open(herald.wsUrl, { token })).close();
          acceptedAt = Date.now();
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the revoked token accepted after REVOCATION_TTL' },
    );
    expect(acceptedAt - revokedAt).toBeGreaterThanOrEqual(1_800);
    expect(acceptedAt - revokedAt).toBeLessThan(5_000);
  });
});

describe('two edges on one Redis', () => {
  let redis: RedisServer;
  let cluster: Cluster;
  beforeAll(async () => {
    redis = await startRedis();
    cluster = await startCluster({ redis, label: 'revoke', edges: 2, ingests: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  it('closes the sub on every edge within a second; handshakes and refreshes refused on every edge', async () => {
    await revokesEverywhere(cluster.edges, cluster.ingests[0]!);
  });

  it('an edge that lost its feed closes what it missed once back', async () => {
    const sub = user('missed');
    const edge = cluster.edges[0]!;
    const client = await TestClient.open(edge.wsUrl, { token: clientToken({ sub }) });
    // Kill the edge's revocation subscriber connection: the feed is lost and comes back.
    const { redisCli } = await import('../support/redis.js');
    const clients = await redisCli(redis, 'CLIENT', 'LIST');
    const line = clients.split('\n').find((entry) => entry.includes(`name=${nodeName(edge)}-revocations-sub`));
    expect(line).toBeDefined();
    const id = /id=(\d+)/.exec(line!)![1]!;
    // The revocation lands while the feed is down (the kill and the revoke race; either way it must close).
    await redisCli(redis, 'CLIENT', 'KILL', 'ID', id);
    expect((await disconnectUser(cluster.ingests[0]!.url, sub)).status).toBe(202);
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(client.frames.at(-1)).toMatchObject({ error: { type: '/problems/unauthorized', message: 'Session revoked' } });
  });
});

describe('two edges on a Redis Cluster', () => {
  let redis: RedisClusterHandle;
  let cluster: Cluster;
  beforeAll(async () => {
    redis = await startRedisCluster(3);
    cluster = await startCluster({ redis, label: 'revoke-cluster', edges: 2, ingests: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  it('closes the sub on every edge within a second; handshakes and refreshes refused on every edge', async () => {
    await revokesEverywhere(cluster.edges, cluster.ingests[0]!);
  });
});

function nodeName(herald: HeraldProcess): string {
  const line = herald.stdout.find((text) => text.includes('"herald listening"'));
  return (JSON.parse(line ?? '{}') as { node?: string }).node ?? '';
}

describe('when Redis is unreachable', () => {
  let redis: RedisServer;
  let cluster: Cluster;
  beforeAll(async () => {
    redis = await startRedis();
    cluster = await startCluster({ redis, label: 'revoke-outage', edges: 1, ingests: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  it('the admin call answers 503; edges still refuse what they heard, and let other verified tokens through', async () => {
    const edge = cluster.edges[0]!;
    const ingest = cluster.ingests[0]!;
    const revoked = user('outage-revoked');
    const oldToken = clientToken({ sub: revoked });
    const connected = await TestClient.open(edge.wsUrl, { token: oldToken });
    expect((await disconnectUser(ingest.url, revoked)).status).toBe(202);
    // Closed: the edge heard the announcement, and remembers it.
    expect((await connected.closed).code).toBe(1008);

    await redis.stop();
    const answer = await disconnectUser(ingest.url, user('outage-other'));
    expect(answer.status).toBe(503);
    expect(answer.body.type).toBe('/problems/broker-unavailable');
    expect((await refusedHandshake(edge.wsUrl, { token: oldToken })).status).toBe(401);
    const client = await TestClient.open(edge.wsUrl, { token: clientToken({ sub: user('outage-fine') }) });
    await client.sync();
    await client.close();
    await edge.waitForLog((record) => record.msg === 'revocation store unreachable: letting verified tokens through');
  });
});
