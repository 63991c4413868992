#!/usr/bin/env node
// Black-box conformance of a running Herald (edge + ingest on Redis) from outside,
// through its HTTP and WebSocket APIs only (docs/protocol.md): health and readiness,
// problem documents, the handshake with a JWT, commands, publish through the ingest,
// the envelope with its seq, idempotency, batches, resume with `since`, and, when the
// caller can stop the edge, the SIGTERM drain (readyz 503, close 1001, exit 0).
//
// scripts/test-image.mjs runs it against the containers it starts. Standalone, against
// any deployment whose JWT secret you have (HS256):
//   HERALD_EXTERNAL_EDGE_URL=http://127.0.0.1:8080 HERALD_EXTERNAL_INGEST_URL=http://127.0.0.1:8081 \
//   JWT_SECRET=... node scripts/image-conformance.mjs
// It subscribes to and publishes on fresh `merchant:m_conf_*` channels only. Needs the
// test workspace's dependencies (`pnpm install`) for the `ws` client.
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WebSocket = createRequire(join(root, 'test', 'package.json'))('ws');

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An HS256 JWT, valid for an hour. */
export function signJwt(claims, secret) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ iat: now, exp: now + 3600, ...claims })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(actual, expected, what) {
  assert(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function mediaType(contentType) {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** "1763719200123-0" -> [ms, n] as BigInts, for ordering checks. */
function seqKey(seq) {
  const [ms, n = '0'] = String(seq).split('-');
  return [BigInt(ms), BigInt(n)];
}

function seqAfter(a, b) {
  const [am, an] = seqKey(a);
  const [bm, bn] = seqKey(b);
  return am > bm || (am === bm && an > bn);
}

async function http(method, url, { body, headers = {} } = {}) {
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type'), text, body: json };
}

function expectProblem(answer, status, type, what) {
  equal(answer.status, status, `${what}: status`);
  equal(mediaType(answer.contentType), 'application/problem+json', `${what}: content type`);
  assert(answer.body && typeof answer.body === 'object', `${what}: no JSON problem body (${answer.text.slice(0, 200)})`);
  if (type !== undefined) equal(answer.body.type, type, `${what}: problem type`);
  assert(typeof answer.body.title === 'string', `${what}: problem without title`);
  equal(answer.body.status, status, `${what}: problem status`);
}

/** A WebSocket client that keeps every frame and can wait for one. */
class Client {
  static open(wsUrl, { token, protocols = 'v1.json', query = false } = {}) {
    const url = query && token ? `${wsUrl}?access_token=${encodeURIComponent(token)}` : wsUrl;
    const headers = token && !query ? { authorization: `Bearer ${token}` } : {};
    const socket = new WebSocket(url, protocols, { headers, handshakeTimeout: 10_000 });
    const client = new Client(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          const error = new Error(`handshake refused with HTTP ${response.statusCode}`);
          let body;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          Object.assign(error, { refused: { status: response.statusCode, contentType: response.headers['content-type'], text, body } });
          reject(error);
        });
      });
      socket.once('error', reject);
    });
  }

  /** The refused handshake as an HTTP answer (fails when the upgrade succeeds). */
  static async refused(wsUrl, options) {
    try {
      const client = await Client.open(wsUrl, options);
      client.socket.terminate();
    } catch (error) {
      if (error.refused) return error.refused;
      throw error;
    }
    throw new Error('the handshake was accepted');
  }

  constructor(socket) {
    this.socket = socket;
    this.frames = [];
    this.waiters = new Set();
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (data, isBinary) => {
      const frame = isBinary ? { binary: data } : JSON.parse(data.toString());
      this.frames.push(frame);
      for (const waiter of this.waiters) waiter(frame);
    });
    socket.on('error', () => {});
    this.counter = 0;
  }

  send(frame) {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or coming) matching `predicate`. */
  next(predicate, timeoutMs = 5_000, from = 0) {
    const seen = this.frames.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching frame within ${timeoutMs}ms; frames: ${JSON.stringify(this.frames).slice(-600)}`));
      }, timeoutMs);
      const waiter = (frame) => {
        if (!predicate(frame)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(frame);
      };
      this.waiters.add(waiter);
    });
  }

  /** Sends a command with a fresh id and resolves with its reply. */
  async command(type, data) {
    const id = `c${++this.counter}`;
    const from = this.frames.length;
    this.send(data === undefined ? { type, id } : { type, id, data });
    return this.next((frame) => frame.replyTo === id, 5_000, from);
  }

  async subscribe(channel, since) {
    const reply = await this.command('subscribe', since === undefined ? { channel } : { channel, since });
    equal(reply.type, 'subscribed', `subscribe ${channel}: reply ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Waits until `count` events of `channel` have arrived; returns them. */
  async events(channel, count, timeoutMs = 5_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = this.frames.filter((frame) => frame.channel === channel && frame.seq !== undefined);
      if (events.length >= count) return events;
      if (Date.now() > deadline) throw new Error(`${events.length} of ${count} events of ${channel} within ${timeoutMs}ms`);
      await sleep(10);
    }
  }

  /** A ping round trip: everything the server sent before the pong has arrived. */
  async sync() {
    const reply = await this.command('ping');
    equal(reply.type, 'pong', 'ping reply');
  }

  close() {
    this.socket.close(1000);
    return this.closed;
  }
}

function paymentCreated(merchant, n) {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}_${n}`;
  return {
    type: 'payment.created',
    id: `evt_conf_${suffix}`,
    data: { payment_id: `pay_${suffix}`, order_id: `order_${suffix}`, merchant_id: merchant, amount: 1000 + n, currency: 'EUR', status: 'pending' },
  };
}

/**
 * Runs every check against `edgeUrl` (http://host:port of an edge) and `ingestUrl`.
 * `stopEdge`, when given, sends SIGTERM to the edge and resolves with its exit code;
 * the drain checks run last, with it. Returns { passed, failed, results, tokens }.
 */
export async function runConformance({ edgeUrl, ingestUrl, secret, stopEdge, log = console.log }) {
  const wsUrl = `${edgeUrl.replace(/^http/, 'ws')}/v1/ws`;
  const run = randomBytes(4).toString('hex');
  const merchant = `m_conf_${run}`;
  const channel = `merchant:${merchant}`;
  const clientJwt = signJwt({ sub: `conf-${run}`, channels: [channel, `payment:*`] }, secret);
  const allJwt = signJwt({ sub: `conf-all-${run}`, channels: ['*'] }, secret);
  const publisherJwt = signJwt({ sub: 'conf-producer', scope: 'events:publish' }, secret);
  const publishHeaders = { 'content-type': 'application/json', authorization: `Bearer ${publisherJwt}` };
  const publish = (event, headers = {}) =>
    http('POST', `${ingestUrl}/v1/events`, { body: typeof event === 'string' ? event : JSON.stringify(event), headers: { ...publishHeaders, ...headers } });

  const results = [];
  const check = async (name, body) => {
    const started = Date.now();
    try {
      await body();
      results.push({ name, ok: true });
      log(`ok - ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      results.push({ name, ok: false, error });
      log(`not ok - ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  // --- section 1: endpoints
  for (const [service, base] of [
    ['edge', edgeUrl],
    ['ingest', ingestUrl],
  ]) {
    await check(`${service}: /healthz 200, /readyz 200, /metrics in Prometheus text`, async () => {
      equal((await http('GET', `${base}/healthz`)).status, 200, 'healthz');
      equal((await http('GET', `${base}/readyz`)).status, 200, 'readyz');
      const metrics = await http('GET', `${base}/metrics`);
      equal(metrics.status, 200, 'metrics');
      equal(mediaType(metrics.contentType), 'text/plain', 'metrics content type');
      assert(/^# (HELP|TYPE) /m.test(metrics.text), 'metrics: no # HELP / # TYPE line');
    });
  }
  await check('edge: an unknown path and another version answer 404 problems', async () => {
    expectProblem(await http('GET', `${edgeUrl}/nope`), 404, '/problems/not-found', 'GET /nope');
    expectProblem(await Client.refused(wsUrl.replace('/v1/ws', '/v2/ws'), { token: clientJwt }), 404, '/problems/not-found', '/v2/ws upgrade');
  });

  // --- section 2: handshake
  await check('handshake: no token, a bad signature, an expired token, alg none answer 401 /problems/unauthorized', async () => {
    expectProblem(await Client.refused(wsUrl, {}), 401, '/problems/unauthorized', 'no token');
    expectProblem(await Client.refused(wsUrl, { token: signJwt({ sub: 'x', channels: [channel] }, `${secret}-wrong`) }), 401, '/problems/unauthorized', 'bad signature');
    const expired = signJwt({ sub: 'x', channels: [channel], exp: Math.floor(Date.now() / 1000) - 60 }, secret);
    expectProblem(await Client.refused(wsUrl, { token: expired }), 401, '/problems/unauthorized', 'expired');
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'x', channels: [channel] })}.`;
    expectProblem(await Client.refused(wsUrl, { token: none }), 401, '/problems/unauthorized', 'alg none');
  });
  await check('handshake: only an unknown subprotocol answers 400 /problems/unsupported-protocol', async () => {
    expectProblem(await Client.refused(wsUrl, { token: clientJwt, protocols: 'v9.xml' }), 400, '/problems/unsupported-protocol', 'v9.xml');
  });
  let lastConnected;
  await check('handshake: a JWT (Authorization header or ?access_token=) gets v1.json and `connected` first', async () => {
    for (const query of [false, true]) {
      const client = await Client.open(wsUrl, { token: clientJwt, query });
      try {
        equal(client.socket.protocol, 'v1.json', 'subprotocol');
        const first = await client.next(() => true);
        equal(first.type, 'connected', 'first frame');
        assert(typeof first.id === 'string' && typeof first.timestamp === 'string', 'connected: id and timestamp');
        assert(typeof first.data?.connectionId === 'string' && typeof first.data?.node === 'string', 'connected: connectionId and node');
        assert(Number.isInteger(first.data.pingInterval) && Number.isInteger(first.data.readTimeout), 'connected: pingInterval and readTimeout');
        lastConnected = first;
      } finally {
        await client.close();
      }
    }
  });

  // --- section 3: commands and errors on the socket
  await check('commands: ping/pong, forbidden, invalid channel, invalid message, unknown type; the connection stays open', async () => {
    const client = await Client.open(wsUrl, { token: allJwt });
    const restricted = await Client.open(wsUrl, { token: clientJwt });
    try {
      equal((await client.command('ping')).type, 'pong', 'ping');
      const forbidden = await restricted.command('subscribe', { channel: 'merchant:m_someone_else' });
      equal(forbidden.type, 'error', 'forbidden reply');
      equal(forbidden.error?.type, '/problems/forbidden', 'forbidden problem');
      const invalid = await client.command('subscribe', { channel: 'bad channel!' });
      equal(invalid.error?.type, '/problems/invalid-channel', 'invalid channel problem');
      const unknown = await client.command('teleport');
      equal(unknown.error?.type, '/problems/unknown-type', 'unknown type problem');
      const from = client.frames.length;
      client.send('this is not json');
      const notJson = await client.next((frame) => frame.type === 'error', 5_000, from);
      equal(notJson.error?.type, '/problems/invalid-message', 'invalid message problem');
      await client.sync();
      await restricted.sync();
      equal(client.socket.readyState, WebSocket.OPEN, 'connection state');
    } finally {
      await client.close();
      await restricted.close();
    }
  });

  // --- sections 3 and 7: publish, envelope, seq, idempotency, batch
  const seen = [];
  await check('publish through ingest: 202 once stored; the subscriber gets the envelope with channel and seq', async () => {
    const client = await Client.open(wsUrl, { token: clientJwt });
    try {
      const reply = await client.subscribe(channel);
      equal(reply.data?.channel, channel, 'subscribed channel');
      const event = paymentCreated(merchant, 1);
      const answer = await publish(event);
      equal(answer.status, 202, `publish status (${answer.text.slice(0, 200)})`);
      equal(answer.body?.id, event.id, 'accepted id');
      equal(answer.body?.duplicate, false, 'duplicate flag');
      assert(Array.isArray(answer.body?.channels) && answer.body.channels.includes(channel), `channels ${JSON.stringify(answer.body?.channels)}`);
      const [envelope] = await client.events(channel, 1);
      equal(envelope.type, 'payment.created', 'envelope type');
      equal(envelope.id, event.id, 'envelope id');
      equal(envelope.channel, channel, 'envelope channel');
      assert(typeof envelope.seq === 'string' && /^\d+-\d+$/.test(envelope.seq), `envelope seq ${envelope.seq}`);
      assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(envelope.timestamp), `envelope timestamp ${envelope.timestamp}`);
      equal(JSON.stringify(envelope.data), JSON.stringify(event.data), 'envelope data');
      seen.push(envelope);

      const again = await publish(event);
      equal(again.status, 202, 'repeated id status');
      equal(again.body?.duplicate, true, 'repeated id is a duplicate');

      const batch = [paymentCreated(merchant, 2), paymentCreated(merchant, 3)];
      const batchAnswer = await http('POST', `${ingestUrl}/v1/events:batch`, { body: JSON.stringify({ events: batch }), headers: publishHeaders });
      equal(batchAnswer.status, 207, `batch status (${batchAnswer.text.slice(0, 200)})`);
      const events = await client.events(channel, 3);
      await client.sync();
      const all = client.frames.filter((frame) => frame.channel === channel && frame.seq !== undefined);
      equal(all.length, 3, 'events after a duplicate and a batch of two (the duplicate is not delivered)');
      equal(JSON.stringify(all.map((e) => e.id)), JSON.stringify([event.id, ...batch.map((e) => e.id)]), 'event order');
      for (let i = 1; i < all.length; i++) assert(seqAfter(all[i].seq, all[i - 1].seq), `seq not increasing: ${all[i - 1].seq} then ${all[i].seq}`);
      seen.splice(0, seen.length, ...events.slice(0, 3));
    } finally {
      await client.close();
    }
  });

  await check('resume with since: the missed events in order (recovered, missed: n), then live ones', async () => {
    assert(seen.length > 0, 'no event seen by the previous check');
    const lastSeq = seen.at(-1).seq;
    const missed = [paymentCreated(merchant, 4), paymentCreated(merchant, 5), paymentCreated(merchant, 6)];
    for (const event of missed) equal((await publish(event)).status, 202, 'publish while away');
    const client = await Client.open(wsUrl, { token: clientJwt });
    try {
      const reply = await client.subscribe(channel, lastSeq);
      equal(reply.data?.recovered, true, 'recovered');
      equal(reply.data?.missed, missed.length, 'missed');
      const recovered = await client.events(channel, missed.length);
      equal(JSON.stringify(recovered.map((e) => e.id)), JSON.stringify(missed.map((e) => e.id)), 'recovered events');
      assert(seqAfter(recovered[0].seq, lastSeq), 'recovered seq after since');
      const live = paymentCreated(merchant, 7);
      equal((await publish(live)).status, 202, 'live publish');
      const all = await client.events(channel, missed.length + 1);
      equal(all.at(-1).id, live.id, 'live event after the recovered ones');
      await client.sync();
      equal(client.frames.filter((frame) => frame.channel === channel && frame.seq !== undefined).length, missed.length + 1, 'no duplicate');
    } finally {
      await client.close();
    }
  });

  // --- section 7: bad input to the ingest
  await check('ingest: problem documents for bad input (400, 401, 413, 415, 422)', async () => {
    expectProblem(await publish('{"type": '), 400, '/problems/invalid-json', 'invalid JSON');
    expectProblem(await publish(JSON.stringify(paymentCreated(merchant, 8)), { 'content-type': 'text/plain' }), 415, '/problems/unsupported-media-type', 'text/plain');
    const invalid = await publish({ type: 'payment.created', data: { merchant_id: merchant, amount: 'ten' } });
    expectProblem(invalid, 422, '/problems/validation-failed', 'validation');
    assert(Array.isArray(invalid.body.errors) && invalid.body.errors.length > 0, 'validation: errors array');
    expectProblem(await publish({ type: 'refund.teleported', data: {} }), 422, '/problems/unknown-event-type', 'unknown type');
    expectProblem(await publish(paymentCreated(merchant, 9), { authorization: '' }), 401, '/problems/unauthorized', 'no credentials');
    expectProblem(await publish(paymentCreated(merchant, 10), { authorization: `Bearer ${clientJwt}` }), 401, '/problems/unauthorized', 'token without events:publish');
    const big = paymentCreated(merchant, 11);
    big.data.note = 'x'.repeat(300 * 1024);
    expectProblem(await publish(big), 413, '/problems/payload-too-large', 'over 256 KiB');
  });

  // --- section 6: SIGTERM
  if (stopEdge) {
    await check('SIGTERM to the edge: /readyz 503 problem at once, connections closed 1001, exit code 0', async () => {
      const clients = await Promise.all([0, 1, 2].map(() => Client.open(wsUrl, { token: clientJwt })));
      for (const client of clients) await client.subscribe(channel);
      const codes = Promise.all(clients.map((client) => client.closed.then((closed) => closed.code)));
      const exitCode = stopEdge();
      // /readyz turns 503 while the drain runs (the connections keep it going).
      let draining;
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const ready = await http('GET', `${edgeUrl}/readyz`).catch(() => undefined);
        if (ready?.status === 503) {
          draining = ready;
          break;
        }
        await sleep(20);
      }
      assert(draining, '/readyz never answered 503 after SIGTERM');
      expectProblem(draining, 503, undefined, '/readyz while draining');
      assert(/^\/problems\//.test(draining.body.type), `draining problem type ${draining.body.type}`);
      equal(JSON.stringify(await codes), JSON.stringify([1001, 1001, 1001]), 'close codes');
      equal(await exitCode, 0, 'edge exit code');
    });
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  return { passed, failed, results, tokens: [clientJwt, allJwt, publisherJwt], node: lastConnected?.data?.node };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const edgeUrl = process.env.HERALD_EXTERNAL_EDGE_URL;
  const ingestUrl = process.env.HERALD_EXTERNAL_INGEST_URL;
  const secret = process.env.JWT_SECRET;
  if (!edgeUrl || !ingestUrl || !secret) {
    console.error('image-conformance: set HERALD_EXTERNAL_EDGE_URL, HERALD_EXTERNAL_INGEST_URL and JWT_SECRET');
    process.exit(2);
  }
  // A deployment just started may not be ready yet: wait up to 30 s for both.
  for (const base of [edgeUrl, ingestUrl]) {
    const deadline = Date.now() + 30_000;
    while ((await http('GET', `${base}/readyz`).catch(() => undefined))?.status !== 200 && Date.now() < deadline) await sleep(100);
  }
  const { passed, failed } = await runConformance({ edgeUrl, ingestUrl, secret });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
