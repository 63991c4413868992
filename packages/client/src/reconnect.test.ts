import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import type { DisconnectInfo, HeraldError, ReconnectInfo, WebSocketConstructor } from './index.js';
import { next, nextMatching } from '../test-support/events.js';
import { cleanup, eventWithSeq, makeClient, nextSubscribed, payment, startServer } from '../test-support/fixtures.js';
import { ManualTimers, sequenceRandom } from '../test-support/timers.js';

afterEach(cleanup);

const channel = 'merchant:m_42';

describe('reconnecting', () => {
  it('after a 1001 drain: reconnects, resubscribes with since = last seq, drops the replayed duplicate', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    await client.connect();
    const conn1 = await server.nextConnection();
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);
    const seen: string[] = [];
    sub.on('event', (event) => seen.push(event.seq));
    const second = eventWithSeq(sub, '1763719200123-1');
    conn1.event(channel, '1763719200123-0', 'payment.created', payment);
    conn1.event(channel, '1763719200123-1', 'payment.created', payment);
    await second;

    const disconnected = next(client, 'disconnected');
    const reconnecting = next(client, 'reconnecting');
    await conn1.close(1001, 'node draining: reconnect to another node');
    expect((await disconnected)[0]).toEqual({ code: 1001, reason: 'node draining: reconnect to another node', httpStatus: undefined, willReconnect: true });
    expect((await reconnecting)[0]).toMatchObject({ attempt: 1, code: 1001 });
    expect(client.state).toBe('reconnecting');

    const conn2 = await server.nextConnection();
    const resubscribed = nextSubscribed(sub);
    const command = await conn2.next('subscribe');
    expect(command.data).toEqual({ channel, since: '1763719200123-1' });
    expect(await resubscribed).toEqual({ channel, since: '1763719200123-1', recovered: true, missed: 0, resubscribed: true });

    const third = eventWithSeq(sub, '1763719200124-0');
    conn2.event(channel, '1763719200123-1', 'payment.created', payment); // replayed: a duplicate
    conn2.event(channel, '1763719200124-0', 'payment.created', payment);
    await third;
    expect(seen).toEqual(['1763719200123-0', '1763719200123-1', '1763719200124-0']);
    expect(sub.stats).toMatchObject({ received: 3, duplicates: 1, subscribes: 2 });
    expect(client.stats()).toMatchObject({ state: 'open', connects: 2, reconnects: 1, disconnects: 1, connectionId: 'conn_2' });
  });

  it('backs off with full jitter: delay = random() * min(max, initial * factor^n)', async () => {
    // Nothing listens on this port: every attempt fails with ECONNREFUSED (observed as 1006).
    const server = await startServer();
    const url = server.url;
    await server.close();
    const timers = new ManualTimers();
    const random = vi.fn(sequenceRandom([0.5, 0.25, 0.9, 0.1, 0.999]));
    const { client } = makeClient(url, { timers, random, backoff: { initialDelay: 100, maxDelay: 300, factor: 2 } });
    const seen: ReconnectInfo[] = [];
    client.on('reconnecting', (info) => seen.push(info));

    void client.connect();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const [info] = await nextMatching(client, 'reconnecting', (i) => i.attempt === attempt);
      expect(client.state).toBe('reconnecting');
      timers.advance(info.delay); // the injected clock, not real time, decides when to retry
    }
    await next(client, 'reconnecting');

    // ceilings 100, 200, 300 (400 capped), 300, 300
    expect(seen.slice(0, 5).map((info) => info.delay)).toEqual([50, 50, 270, 30, 299]);
    expect(seen.slice(0, 5).map((info) => info.code)).toEqual([1006, 1006, 1006, 1006, 1006]);
    expect(random).toHaveBeenCalledTimes(6);
    expect(client.stats().reconnectAttempts).toBe(5);
  });

  it('after a 1001 on an open connection the retry is jittered over the going-away window; a 1001 refusal counts as a failure', async () => {
    const server = await startServer();
    server.script = (conn) => {
      if (conn.index === 1 || conn.index === 3) setTimeout(() => conn.ws.close(1001, 'node draining: reconnect to another node'), 0);
      else if (conn.index === 2) {
        conn.autoReply = false;
        conn.ws.close(1001, 'node draining: reconnect to another node');
      }
    };
    const timers = new ManualTimers();
    const { client } = makeClient(server.url, { timers, random: () => 0.5, backoff: { initialDelay: 100, maxDelay: 10_000, goingAwayWindow: 4_000 } });
    const seen: ReconnectInfo[] = [];
    client.on('reconnecting', (info) => {
      seen.push(info);
      timers.advance(info.delay);
    });
    await client.connect();
    // conn_2 closes 1001 before its connected frame: a failed attempt, the backoff window applies.
    // conn_3 opens and is drained at once: a move, not a failure, so the window again.
    const info = await nextMatching(client, 'connected', (i) => i.connectionId === 'conn_4');
    expect(info[0].connectionId).toBe('conn_4');
    expect(seen.map((i) => [i.code, i.delay])).toEqual([
      [1001, 2_000], // 0.5 * 4000: the going-away window
      [1001, 100], // 0.5 * 100 * 2: the second consecutive failure, ordinary backoff
      [1001, 2_000], // drained right after connecting: the failure count starts again
    ]);
  });

  it('after 1013 (maximum connections) backs off further on every refusal, then connects', async () => {
    const server = await startServer();
    server.script = (conn) => {
      if (conn.index > 3) return;
      conn.autoReply = false;
      conn.error('reach-maximum-connections', 'Maximum number of connections reached');
      conn.ws.close(1013, 'maximum number of connections reached');
    };
    const timers = new ManualTimers();
    const { client } = makeClient(server.url, { timers, random: () => 0.5, backoff: { initialDelay: 100, maxDelay: 10_000 } });
    const errors: HeraldError[] = [];
    client.on('error', (error) => errors.push(error));
    const delays: number[] = [];
    client.on('reconnecting', (info) => {
      delays.push(info.delay);
      timers.advance(info.delay);
    });

    const info = await client.connect();
    expect(info.connectionId).toBe('conn_4');
    expect(delays).toEqual([50, 100, 200]);
    expect(errors.map((error) => error.problemType)).toEqual(Array(3).fill('/problems/reach-maximum-connections'));
  });

  it('after 1008 asks getToken() for a new token, after the backoff delay, then reconnects with it', async () => {
    const server = await startServer();
    const timers = new ManualTimers();
    const getToken = vi.fn(() => Promise.resolve(`fresh_${getToken.mock.calls.length}`));
    const { client } = makeClient(server.url, { timers, random: () => 0.5, getToken });
    const errors: HeraldError[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();
    const conn1 = await server.nextConnection();
    expect(conn1.token).toBe('tok_1');

    const reconnecting = next(client, 'reconnecting');
    conn1.error('unauthorized', 'Token expired');
    conn1.ws.close(1008, 'token expired');
    const [info] = await reconnecting;
    expect(info).toMatchObject({ code: 1008, attempt: 1 });
    expect(getToken).not.toHaveBeenCalled(); // not before the delay: never a hot loop

    const connected = next(client, 'connected');
    timers.advance(info.delay);
    const conn2 = await server.nextConnection();
    await connected;
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(conn2.token).toBe('fresh_1');
    expect(errors.map((error) => error.problemType)).toEqual(['/problems/unauthorized']);
  });

  it('after an HTTP 401 at the handshake asks getToken() before trying again', async () => {
    const server = await startServer({ authorize: (token) => token === 'good' });
    const getToken = vi.fn(() => 'good');
    const { client } = makeClient(server.url, { token: 'expired', getToken });
    const disconnected = next(client, 'disconnected');
    const info = await client.connect();
    expect((await disconnected)[0]).toMatchObject({ httpStatus: 401, willReconnect: true });
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(info.connectionId).toBe('conn_1');
    expect((await server.nextConnection()).token).toBe('good');
  });

  it('without getToken, a refused token ends the client with an auth error', async () => {
    const server = await startServer();
    const { client, timers } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const errored = next(client, 'error');
    const closed = next(client, 'closed');
    conn.ws.close(1008, 'token expired');
    expect((await errored)[0]).toMatchObject({ kind: 'auth', code: 1008 });
    expect((await closed)[0]).toEqual({ code: 1008, reason: 'token expired' });
    expect(client.state).toBe('closed');
    expect(timers.active).toBe(0);
  });

  it('does not reconnect after a 1000 from the server', async () => {
    const server = await startServer();
    const { client, timers } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const disconnected = next(client, 'disconnected');
    const closed = next(client, 'closed');
    conn.ws.close(1000, 'session ended');
    expect((await disconnected)[0]).toMatchObject({ code: 1000, willReconnect: false });
    await closed;
    expect(client.state).toBe('closed');
    expect(timers.active).toBe(0);
    expect(server.connections).toBe(1);
  });

  it('detects a silent dead server with application pings (browser path) and reconnects', async () => {
    const readTimeout = 150;
    const server = await startServer({ pingInterval: 40, readTimeout });
    const { client } = makeClient(server.url, { WebSocket: WsWebSocket as unknown as WebSocketConstructor });
    const info = await client.connect();
    expect(info).toMatchObject({ pingInterval: 40, readTimeout });
    const conn1 = await server.nextConnection();

    const ping = await conn1.next('ping'); // idle connection: the client pings
    expect(ping).toEqual({ type: 'ping', id: expect.stringMatching(/^c\d+$/) });
    await conn1.next('ping'); // answered, so the link stays up and pinging goes on
    const disconnected = next(client, 'disconnected');
    conn1.silent = true; // frozen: the TCP connection stays up, nothing comes back
    const silentSince = Date.now();

    const [lost] = (await disconnected) as [DisconnectInfo];
    const detectedAfter = Date.now() - silentSince;
    expect(lost).toMatchObject({ code: 1006, willReconnect: true });
    expect(lost.reason).toMatch(/^read timeout/);
    expect(detectedAfter).toBeLessThanOrEqual(readTimeout + 200); // within the read timeout (+ timer slack on a busy machine)

    const conn2 = await server.nextConnection();
    const reconnected = await next(client, 'connected');
    expect(reconnected[0]).toMatchObject({ connectionId: `conn_${conn2.index}`, reconnected: true });
  });
});
