/**
 * The core rows of the black-box protocol tests, run against `herald start` and against
 * three edges and two ingest processes on Redis, with the client and the publisher on
 * different nodes: handshake failures, subscribe/unsubscribe/ping, forbidden, recovery
 * with `since` across nodes (leave node A, resume on node B), idempotency across ingest
 * processes, batch 207, and tenant isolation across nodes. The tests only see a
 * Topology (support/topology.ts); with one process every index is that process.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSeq } from '@herald/protocol';
import { expectOrderedOnce, stopAllProcesses } from '../support/cluster.js';
import { TEST_SECRET } from '../support/herald.js';
import { mediaTypeOf } from '../support/http.js';
import { paymentCreated, publish, publishBatch, type HttpAnswer } from '../support/ingest.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken, epochSeconds } from '../support/tokens.js';
import { allInOne, redisTopology, type Topology } from '../support/topology.js';
import { TestClient, refusedHandshake, type Frame, type HandshakeFailure } from '../support/ws-client.js';

const ORIGIN = 'https://app.example.com';
const HISTORY_SIZE = 20;
const ENV = { ALLOWED_ORIGINS: ORIGIN, HISTORY_SIZE: String(HISTORY_SIZE), MAX_COMMANDS_PER_SECOND: '1000' };
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let redis: RedisServer | undefined;

afterAll(async () => {
  await stopAllProcesses();
  await redis?.stop();
});

const topologies: Array<[string, () => Promise<Topology>]> = [
  ['herald start', () => allInOne(ENV)],
  [
    '3 edges, 2 ingest on Redis',
    async () => {
      redis = await startRedis();
      return redisTopology(redis, 3, 2, ENV);
    },
  ],
];

let counter = 0;
const fresh = (label: string) => `${label}_${process.pid}_${Date.now().toString(36)}_${++counter}`;

function expectRefused(refused: HandshakeFailure, status: number, type: string): void {
  expect(refused.status).toBe(status);
  expect(mediaTypeOf(refused.contentType)).toBe('application/problem+json');
  expect(refused.body).toMatchObject({ type, status, title: expect.any(String) });
}

function expectAccepted(answer: HttpAnswer, duplicate = false): { id: string; channels: string[] } {
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  expect(answer.body.duplicate).toBe(duplicate);
  return answer.body;
}

describe.each(topologies)('%s', (_name, start) => {
  let topology: Topology;

  beforeAll(async () => {
    topology = await start();
  });
  afterAll(async () => {
    await topology?.stop();
  });

  /** A client on edge `node` whose token grants `channels`. */
  const open = (node: number, channels: string[], sub = 'user-1') => TestClient.open(topology.wsUrl(node), { token: clientToken({ sub, channels }), protocols: 'v1.json' });

  /** Publishes through ingest `node`, one after the other; returns the events in order. */
  async function publishEach(node: number, merchant: string, count: number): Promise<Array<Record<string, unknown>>> {
    const events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < count; i++) {
      const event = paymentCreated(merchant);
      expectAccepted(await publish(topology.ingestUrl(node), event));
      events.push(event);
    }
    return events;
  }

  describe('handshake', () => {
    it('refuses a wrong version, a bad or expired token, a foreign origin and an unknown subprotocol on every edge', async () => {
      for (let node = 0; node < topology.edgeCount; node++) {
        const ws = topology.wsUrl(node);
        expectRefused(await refusedHandshake(ws.replace('/v1/ws', '/v2/ws'), { token: clientToken() }), 404, '/problems/not-found');
        const missing = await refusedHandshake(ws, {});
        expectRefused(missing, 401, '/problems/unauthorized');
        expectRefused(await refusedHandshake(ws, { token: clientToken({ exp: epochSeconds(-60) }) }), 401, '/problems/unauthorized');
        expectRefused(await refusedHandshake(ws, { token: clientToken({}, {}, 'another-secret-0123456789abcdefgh') }), 401, '/problems/unauthorized');
        expectRefused(await refusedHandshake(ws, { token: clientToken(), headers: { origin: 'https://evil.example.com' } }), 403, '/problems/forbidden-origin');
        expectRefused(await refusedHandshake(ws, { token: clientToken(), protocols: 'v2.json' }), 400, '/problems/unsupported-protocol');
      }
    });

    it('connects on every edge with the connected frame naming that node', async () => {
      for (let node = 0; node < topology.edgeCount; node++) {
        const client = await TestClient.open(topology.wsUrl(node), { token: clientToken(), protocols: 'v1.json', headers: { origin: ORIGIN } });
        expect(client.socket.protocol).toBe('v1.json');
        expect(client.frames[0]).toEqual({
          type: 'connected',
          id: expect.any(String),
          timestamp: expect.stringMatching(ISO_MS),
          data: { connectionId: expect.any(String), node: topology.nodeId(node), pingInterval: 30000, readTimeout: 60000, expiresAt: expect.stringMatching(ISO_MS) },
        });
        await client.close();
      }
    });
  });

  describe('commands', () => {
    it('answers subscribe, ping and unsubscribe with replyTo, and unknown types with an error', async () => {
      const channel = `merchant:${fresh('m_cmd')}`;
      const client = await open(1, [channel]);
      client.send({ type: 'subscribe', id: 's1', data: { channel } });
      client.send({ type: 'ping', id: 'p1' });
      client.send({ type: 'unsubscribe', id: 'u1', data: { channel } });
      client.send({ type: 'publish', id: 'x1', data: { channel } });
      const replies = await Promise.all(['s1', 'p1', 'u1', 'x1'].map((id) => client.next((frame) => frame.replyTo === id)));
      expect(replies[0]).toEqual({ type: 'subscribed', replyTo: 's1', data: { channel, recovered: false, missed: 0 }, timestamp: expect.stringMatching(ISO_MS) });
      expect(replies[1]).toEqual({ type: 'pong', replyTo: 'p1', timestamp: expect.stringMatching(ISO_MS) });
      expect(replies[2]).toEqual({ type: 'unsubscribed', replyTo: 'u1', data: { channel }, timestamp: expect.stringMatching(ISO_MS) });
      expect(replies[3]).toMatchObject({ type: 'error', replyTo: 'x1', error: { type: '/problems/unknown-type' } });
      // Unsubscribed: an event published now through another node is not delivered.
      await publishEach(0, channel.slice('merchant:'.length), 1);
      await client.sync();
      expect(client.events()).toEqual([]);
      await client.close();
    });

    it('answers forbidden for a channel the token does not grant, and the connection stays open', async () => {
      const mine = `merchant:${fresh('m_own')}`;
      const client = await open(2, [mine]);
      client.send({ type: 'subscribe', id: 'c7', data: { channel: 'merchant:m_9' } });
      expect(await client.next((frame) => frame.replyTo === 'c7')).toEqual({
        type: 'error',
        replyTo: 'c7',
        error: { type: '/problems/forbidden', message: expect.stringContaining('merchant:m_9') },
        timestamp: expect.stringMatching(ISO_MS),
      });
      expect((await client.subscribe(mine)).type).toBe('subscribed');
      await client.close();
    });

    it('delivers an event published through another node with the envelope of the contract', async () => {
      const merchant = fresh('m_env');
      const channel = `merchant:${merchant}`;
      const client = await open(2, [channel]);
      await client.subscribe(channel);
      const event = paymentCreated(merchant, { timestamp: '2026-11-21T10:00:00Z' });
      expectAccepted(await publish(topology.ingestUrl(1), event));
      const [frame] = await client.waitForEvents(1, channel);
      expect(frame).toEqual({ type: 'payment.created', id: event.id, timestamp: '2026-11-21T10:00:00.000Z', channel, seq: expect.stringMatching(/^\d+-\d+$/), data: event.data });
      await client.close();
    });
  });

  describe('recovery across nodes', () => {
    it('resumes on another node with since: exactly the missed events, in order, then live ones', async () => {
      const merchant = fresh('m_rec');
      const channel = `merchant:${merchant}`;
      const first = await open(0, [channel]);
      await first.subscribe(channel);
      const before = await publishEach(1, merchant, 3);
      const seen = await first.waitForEvents(3, channel);
      expect(seen.map((event) => event.id)).toEqual(before.map((event) => event.id));
      await first.close();

      // Published through both ingest processes while the client is away.
      const missed = [...(await publishEach(0, merchant, 2)), ...(await publishEach(1, merchant, 2))];
      const second = await open(1, [channel]);
      expect(second.frames[0]!.data.node).toBe(topology.nodeId(1));
      second.send({ type: 'subscribe', id: 'resume', data: { channel, since: seen.at(-1)!.seq } });
      const reply = await second.next((frame) => frame.replyTo === 'resume');
      expect(reply.data).toEqual({ channel, recovered: true, missed: 4 });
      const recovered = await second.waitForEvents(4, channel);
      expect(second.frames.indexOf(reply)).toBeLessThan(second.frames.indexOf(recovered[0]!));
      expect(recovered.map((event) => event.id)).toEqual(missed.map((event) => event.id));

      const live = await publishEach(0, merchant, 2);
      await second.waitForEvents(6, channel);
      await second.sync();
      expect(second.events(channel).map((event) => event.id)).toEqual([...missed, ...live].map((event) => event.id));
      expectOrderedOnce([...seen, ...second.events(channel)]);
      expect(compareSeq(second.events(channel)[0]!.seq, seen.at(-1)!.seq)).toBeGreaterThan(0);
      expect(second.errors()).toEqual([]);
      await second.close();
    });

    it('answers recovered:false and continuity-lost on another node when since is older than the history', async () => {
      const merchant = fresh('m_lost');
      const channel = `merchant:${merchant}`;
      const first = await open(0, [channel]);
      await first.subscribe(channel);
      await publishEach(1, merchant, 1);
      const [old] = await first.waitForEvents(1, channel);
      await first.close();
      await publishEach(0, merchant, HISTORY_SIZE + 2);

      const second = await open(2, [channel]);
      second.send({ type: 'subscribe', id: 'late', data: { channel, since: old!.seq } });
      expect((await second.next((frame) => frame.replyTo === 'late')).data).toEqual({ channel, recovered: false, missed: 0 });
      const lost = await second.next((frame) => frame.type === 'error');
      expect(lost).toMatchObject({ type: 'error', channel, error: { type: '/problems/continuity-lost', message: expect.any(String) } });
      // Live events still flow after it.
      const [live] = await publishEach(1, merchant, 1);
      const [event] = await second.waitForEvents(1, channel);
      expect(event!.id).toBe(live!.id);
      await second.close();
    });
  });

  describe('ingest', () => {
    it('publishes an id once across ingest processes: the repeat is duplicate:true, delivered once', async () => {
      const merchant = fresh('m_idem');
      const channel = `merchant:${merchant}`;
      const client = await open(2, [channel]);
      await client.subscribe(channel);
      const event = paymentCreated(merchant);
      const first = expectAccepted(await publish(topology.ingestUrl(0), event));
      const second = expectAccepted(await publish(topology.ingestUrl(1), event), true);
      expect(second).toEqual({ id: event.id, channels: first.channels, duplicate: true });
      // The Idempotency-Key header names the event, on any ingest.
      const key = fresh('key');
      expectAccepted(await publish(topology.ingestUrl(1), paymentCreated(merchant), { 'idempotency-key': key }));
      expectAccepted(await publish(topology.ingestUrl(0), paymentCreated(merchant), { 'idempotency-key': key }), true);
      // A barrier: an event published after both, through the other ingest.
      const [after] = await publishEach(0, merchant, 1);
      await client.waitForEvents(3, channel);
      await client.sync();
      expect(client.events(channel).map((frame) => frame.id)).toEqual([event.id, key, after!.id]);
      await client.close();
    });

    it('answers a batch with 207, one result per event in order, and delivers the good ones', async () => {
      const merchant = fresh('m_batch');
      const channel = `merchant:${merchant}`;
      const client = await open(0, [channel]);
      await client.subscribe(channel);
      const good = [paymentCreated(merchant), paymentCreated(merchant)];
      const bad = paymentCreated(merchant);
      (bad.data as Record<string, unknown>).amount = '10.00';
      const answer = await publishBatch(topology.ingestUrl(1), [good[0], bad, good[1]]);
      expect(answer.status).toBe(207);
      expect(answer.body.results).toHaveLength(3);
      expect(answer.body.results[0]).toMatchObject({ status: 202, id: good[0]!.id, duplicate: false });
      expect(answer.body.results[1]).toMatchObject({ type: '/problems/validation-failed', status: 422, errors: [expect.objectContaining({ field: 'events[1].data.amount' })] });
      expect(answer.body.results[2]).toMatchObject({ status: 202, id: good[1]!.id, duplicate: false });
      const events = await client.waitForEvents(2, channel);
      await client.sync();
      expect(client.events(channel).map((frame: Frame) => frame.id)).toEqual(good.map((event) => event.id));
      expectOrderedOnce(events);
      await client.close();
    });
  });

  describe('tenant isolation across nodes', () => {
    it('a client never receives another merchant\'s events, from any ingest, on any node', async () => {
      const merchants = [fresh('m_iso'), fresh('m_iso'), fresh('m_iso')];
      const clients = await Promise.all(merchants.map((merchant, i) => open(i, [`merchant:${merchant}`], `tenant-${i}`)));
      for (const [i, client] of clients.entries()) {
        expect((await client.subscribe(`merchant:${merchant(i)}`)).type).toBe('subscribed');
        // Anyone else's channel is forbidden; a wildcard is not even a channel name.
        expect((await client.subscribe(`merchant:${merchant(i + 1)}`)).error?.type).toBe('/problems/forbidden');
        expect((await client.subscribe('merchant:*')).error?.type).toBe('/problems/invalid-channel');
      }
      function merchant(i: number): string {
        return merchants[i % merchants.length]!;
      }
      // Interleaved batches through both ingest processes.
      const events = Array.from({ length: 30 }, (_, i) => paymentCreated(merchant(i)));
      const answers = await Promise.all([publishBatch(topology.ingestUrl(0), events.slice(0, 15)), publishBatch(topology.ingestUrl(1), events.slice(15))]);
      for (const answer of answers) expect(answer.body.results.every((result: { status: number }) => result.status === 202)).toBe(true);
      for (const [i, client] of clients.entries()) {
        const channel = `merchant:${merchant(i)}`;
        await client.waitForEvents(10, channel);
        await client.sync();
        expect(client.events().every((frame) => frame.channel === channel && frame.data.merchant_id === merchant(i))).toBe(true);
        expect(client.events().map((frame) => frame.id).sort()).toEqual(events.filter((_, n) => n % 3 === i).map((event) => event.id).sort());
        await client.close();
      }
    });
  });

  it('a token without sub may connect on any node', async () => {
    const token = jwt.sign({ channels: ['merchant:m_1'] }, TEST_SECRET, { algorithm: 'HS256' });
    for (let node = 0; node < topology.edgeCount; node++) {
      const client = await TestClient.open(topology.wsUrl(node), { token });
      expect((await client.request('ping')).type).toBe('pong');
      await client.close();
    }
  });
});
