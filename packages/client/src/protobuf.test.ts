/**
 * `format: 'protobuf'` (the `@herald/client/protobuf` entry): the key scenarios of the
 * JSON suite against the scripted server speaking `v1.protobuf`, binary frames both
 * ways. The application sees the same typed events, replies and reconnects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { HeraldClient as JsonOnlyClient } from './index.js';
import { HeraldClient, type ClientOptions, type HeraldError, type PaymentCreated, type WebSocketConstructor } from './protobuf.js';
import { next } from '../test-support/events.js';
import { cleanup, eventWithSeq, nextSubscribed, payment, startServer } from '../test-support/fixtures.js';
import { TrackingTimers } from '../test-support/timers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
  await cleanup();
});

const channel = 'merchant:m_42';

function makeClient(url: string, options: Partial<ClientOptions> = {}): HeraldClient {
  const client = new HeraldClient({ url, token: 'tok_1', format: 'protobuf', backoff: { initialDelay: 10, maxDelay: 50, goingAwayWindow: 50 }, timers: new TrackingTimers(), ...options });
  closers.push(() => client.close());
  return client;
}

describe("format: 'protobuf'", () => {
  it('offers v1.protobuf only, sends binary ClientCommands and reads the binary connected frame', async () => {
    const server = await startServer();
    const client = makeClient(server.url);
    expect(client.format).toBe('protobuf');
    const info = await client.connect();
    const conn = await server.nextConnection();
    expect(conn.ws.protocol).toBe('v1.protobuf');
    expect(conn.request.headers['sec-websocket-protocol']).toBe('v1.protobuf');
    expect(info).toMatchObject({ connectionId: 'conn_1', node: 'node_test', pingInterval: 30_000, readTimeout: 60_000, reconnected: false });
    const sub = client.subscribe(channel);
    expect(await nextSubscribed(sub)).toEqual({ channel, since: undefined, recovered: false, missed: 0, resubscribed: false });
    expect(await conn.next('subscribe')).toEqual({ type: 'subscribe', id: expect.stringMatching(/^c\d+$/), data: { channel } });
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
    expect(conn.wrongKind).toEqual([]);
  });

  it('delivers typed events with the same shape as JSON (payment fields, extra, Struct data)', async () => {
    const server = await startServer();
    const client = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);
    const created: PaymentCreated[] = [];
    const all: unknown[] = [];
    sub.on('payment.created', (event) => created.push(event));
    sub.on('event', (event) => all.push(event));
    const last = eventWithSeq(sub, '1763719200123-2');
    const extra = { ...payment, amount: 0, metadata: { tags: ['a', 1, null, true] } };
    conn.event(channel, '1763719200123-0', 'payment.created', payment, 'evt_1');
    conn.event(channel, '1763719200123-1', 'payment.created', extra, 'evt_2');
    conn.event(channel, '1763719200123-2', 'refund.created', { refund_id: 'r_1', nested: { x: 1.5 } }, 'evt_3');
    await last;
    expect(created.map((event) => event.data)).toEqual([payment, extra]);
    expect(all[2]).toMatchObject({ type: 'refund.created', id: 'evt_3', channel, seq: '1763719200123-2', data: { refund_id: 'r_1', nested: { x: 1.5 } } });
    expect(created[0]!.timestamp).toMatch(/\.\d{3}Z$/);
  });

  it('after a 1001 drain: reconnects, resubscribes with since = last seq, drops the replayed duplicate', async () => {
    const server = await startServer();
    const client = makeClient(server.url);
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

    await conn1.close(1001, 'node draining: reconnect to another node');
    const conn2 = await server.nextConnection();
    expect(conn2.format).toBe('protobuf');
    const resubscribed = nextSubscribed(sub);
    expect((await conn2.next('subscribe')).data).toEqual({ channel, since: '1763719200123-1' });
    expect(await resubscribed).toEqual({ channel, since: '1763719200123-1', recovered: true, missed: 0, resubscribed: true });
    const third = eventWithSeq(sub, '1763719200124-0');
    conn2.event(channel, '1763719200123-1', 'payment.created', payment); // replayed: a duplicate
    conn2.event(channel, '1763719200124-0', 'payment.created', payment);
    await third;
    expect(seen).toEqual(['1763719200123-0', '1763719200123-1', '1763719200124-0']);
    expect(sub.stats).toMatchObject({ received: 3, duplicates: 1, subscribes: 2 });
    expect(client.stats()).toMatchObject({ connects: 2, reconnects: 1, disconnects: 1 });
  });

  it('continuity-lost reaches the subscription; forbidden is a terminal error with its problem type', async () => {
    const server = await startServer();
    server.script = (connection) => {
      connection.autoReply = false;
      connection.sendConnected();
    };
    const client = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const sub = client.subscribe(channel, { since: '1763719200123-0' });
    const command = await conn.next('subscribe');
    const lost = new Promise((resolve) => sub.once('continuity-lost', resolve));
    conn.subscribed(command, false);
    conn.error('continuity-lost', 'Events are no longer available', { channel });
    expect(await lost).toMatchObject({ channel, since: '1763719200123-0', message: 'Events are no longer available' });
    expect(sub.state).toBe('subscribed');

    const other = client.subscribe('merchant:m_9');
    const failed = new Promise<HeraldError>((resolve) => other.once('error', resolve));
    const refused = await conn.next('subscribe');
    conn.error('forbidden', 'Not allowed to subscribe to merchant:m_9', { replyTo: refused.id });
    expect(await failed).toMatchObject({ kind: 'problem', problemType: '/problems/forbidden', channel: 'merchant:m_9' });
    expect(other.state).toBe('failed');
  });

  it('after 1008 asks getToken() and reconnects with the new token over v1.protobuf', async () => {
    const server = await startServer();
    let tokens = 0;
    const client = makeClient(server.url, { token: undefined, getToken: () => `tok_${++tokens}` });
    await client.connect();
    const conn1 = await server.nextConnection();
    expect(conn1.token).toBe('tok_1');
    await conn1.close(1008, 'token expired');
    const conn2 = await server.nextConnection();
    expect(conn2.token).toBe('tok_2');
    expect(conn2.format).toBe('protobuf');
  });

  it('works on a WHATWG WebSocket (the browser path): binaryType arraybuffer, token in the query', async () => {
    const server = await startServer();
    const client = makeClient(server.url, { WebSocket: WsWebSocket as unknown as WebSocketConstructor });
    await client.connect();
    const conn = await server.nextConnection();
    expect(conn.request.url).toBe('/v1/ws?access_token=tok_1');
    expect(conn.format).toBe('protobuf');
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);
    const event = eventWithSeq(sub, '1763719200123-0');
    conn.event(channel, '1763719200123-0', 'payment.created', payment, 'evt_b');
    expect(await event).toMatchObject({ id: 'evt_b', data: payment });
  });

  it('a frame that is not a WebSocketMessage is a protocol error; the connection carries on', async () => {
    const server = await startServer();
    const client = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const errors: HeraldError[] = [];
    client.on('error', (error) => errors.push(error));
    const seen = next(client, 'error');
    conn.sendRaw(Buffer.from([0x0a, 0x7f, 0x01])); // a length past the end
    await seen;
    conn.sendRaw('{"type":"pong"}'); // text on v1.protobuf
    await next(client, 'error');
    expect(errors.map((error) => error.kind)).toEqual(['protocol', 'protocol']);
    expect(errors[1]!.message).toMatch(/text frame/);
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
  });

  it('the JSON entry refuses format protobuf, naming the entry to import', () => {
    expect(() => new JsonOnlyClient({ url: 'ws://127.0.0.1:1/v1/ws', format: 'protobuf' })).toThrow(/@herald\/client\/protobuf/);
    expect(() => new HeraldClient({ url: 'ws://127.0.0.1:1/v1/ws', format: 'xml' as never })).toThrow(TypeError);
    // The protobuf entry still speaks JSON by default.
    expect(new HeraldClient({ url: 'ws://127.0.0.1:1/v1/ws' }).format).toBe('json');
  });
});
