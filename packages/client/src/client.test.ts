import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import type { ClientState, HeraldEvent, PaymentCreated, WebSocketConstructor } from './index.js';
import { HeraldError } from './index.js';
import { next } from '../test-support/events.js';
import { cleanup, eventWithSeq, makeClient, nextSubscribed, payment, startServer } from '../test-support/fixtures.js';

afterEach(cleanup);

const channel = 'merchant:m_42';

describe('connecting', () => {
  it('connects with the v1.json subprotocol and a bearer header, and reports the connected frame', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    const states: ClientState[] = [];
    client.on('state', (state) => states.push(state));

    const info = await client.connect();
    const conn = await server.nextConnection();

    expect(info).toEqual({ url: server.url, connectionId: 'conn_1', node: 'node_test', pingInterval: 30_000, readTimeout: 60_000, reconnected: false });
    expect(states).toEqual(['connecting', 'open']);
    expect(client.state).toBe('open');
    expect(conn.ws.protocol).toBe('v1.json');
    expect(conn.request.headers.authorization).toBe('Bearer tok_1');
    expect(conn.request.url).toBe('/v1/ws'); // no token in the URL when a header is possible
  });

  it('puts the token in ?access_token= on a WHATWG WebSocket (the browser path)', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url.replace('/v1/ws', ''), { WebSocket: WsWebSocket as unknown as WebSocketConstructor });
    await client.connect();
    const conn = await server.nextConnection();
    expect(conn.request.headers.authorization).toBeUndefined();
    expect(conn.request.url).toBe('/v1/ws?access_token=tok_1');
    expect(conn.ws.protocol).toBe('v1.json');
  });

  it('asks getToken() for the first token when none is given', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url, { token: undefined, getToken: () => Promise.resolve('from_callback') });
    await client.connect();
    expect((await server.nextConnection()).token).toBe('from_callback');
  });
});

describe('subscriptions', () => {
  it('sends subscribe with a client id and matches the reply by replyTo', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    const sub = client.subscribe(channel); // before connecting: sent once connected
    const subscribed = nextSubscribed(sub);
    await client.connect();
    const conn = await server.nextConnection();

    const command = await conn.next('subscribe');
    expect(command).toEqual({ type: 'subscribe', id: expect.stringMatching(/^c\d+$/), data: { channel } });
    expect(await subscribed).toEqual({ channel, since: undefined, recovered: false, missed: 0, resubscribed: false });
    expect(sub.state).toBe('subscribed');
  });

  it('rejects invalid channel names and double subscriptions', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    expect(() => client.subscribe('bad channel')).toThrow(TypeError);
    client.subscribe(channel);
    expect(() => client.subscribe(channel)).toThrow(/Already subscribed/);
  });

  it('delivers events to typed handlers and to "event" handlers', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);

    const amounts: number[] = [];
    const created: PaymentCreated[] = [];
    const statuses: string[] = [];
    const all: HeraldEvent[] = [];
    sub.on('payment.created', (event) => {
      amounts.push(event.data.amount); // typed: number
      created.push(event);
    });
    sub.on('payment.updated', (event) => statuses.push(event.data.status));
    sub.on('event', (event) => all.push(event));

    const last = eventWithSeq(sub, '100-1');
    conn.event(channel, '100-0', 'payment.created', payment, 'evt_7f3a');
    conn.event(channel, '100-1', 'payment.updated', { payment_id: 'pay_456', merchant_id: 'm_42', status: 'captured' });
    await last;

    expect(amounts).toEqual([10_000]);
    expect(created[0]).toMatchObject({ type: 'payment.created', id: 'evt_7f3a', channel, seq: '100-0', data: payment });
    expect(statuses).toEqual(['captured']);
    expect(all.map((event) => event.type)).toEqual(['payment.created', 'payment.updated']);
    expect(sub.stats).toMatchObject({ received: 2, duplicates: 0 });
  });

  it('drops duplicates by seq (numeric order, not string order) and counts them', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);
    const seen: string[] = [];
    sub.on('event', (event) => seen.push(event.seq));

    const last = eventWithSeq(sub, '11-0');
    for (const seq of ['9-0', '10-0', '10-0', '9-0', '10-1', '9-5', '11-0']) conn.event(channel, seq, 'payment.created', payment);
    conn.event('merchant:other', '1-0', 'payment.created', payment); // not subscribed: unrouted
    await last;

    expect(seen).toEqual(['9-0', '10-0', '10-1', '11-0']);
    expect(sub.stats).toMatchObject({ received: 4, duplicates: 3 });
    expect(sub.lastSeq).toBe('11-0');
    const stats = client.stats();
    expect(stats.subscriptions[channel]).toMatchObject({ received: 4, duplicates: 3, lastSeq: '11-0', state: 'subscribed' });
  });

  it('surfaces continuity-lost on the subscription, which stays subscribed', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    const clientErrors: HeraldError[] = [];
    client.on('error', (error) => clientErrors.push(error));
    await client.connect();
    const conn = await server.nextConnection();
    conn.autoReply = false;

    const sub = client.subscribe(channel, { since: '5-0' });
    const lost = new Promise((resolve) => sub.once('continuity-lost', resolve));
    const command = await conn.next('subscribe');
    expect(command.data).toEqual({ channel, since: '5-0' });
    conn.subscribed(command, false, 0);
    conn.error('continuity-lost', `Events of ${channel} after 5-0 are no longer available`, { channel });

    expect(await lost).toEqual({ channel, since: '5-0', message: `Events of ${channel} after 5-0 are no longer available` });
    expect(sub.state).toBe('subscribed');
    const live = eventWithSeq(sub, '90-0');
    conn.event(channel, '90-0', 'payment.created', payment);
    await live;
    expect(sub.stats).toMatchObject({ continuityLost: 1, received: 1 });
    expect(clientErrors).toEqual([]);
  });

  it('reports forbidden as a terminal subscription error', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    conn.autoReply = false;

    const sub = client.subscribe('merchant:m_9');
    const failed = new Promise<HeraldError>((resolve) => sub.once('error', resolve));
    const command = await conn.next('subscribe');
    conn.error('forbidden', 'Not allowed to subscribe to merchant:m_9', { replyTo: command.id, channel: 'merchant:m_9' });

    const error = await failed;
    expect(error).toBeInstanceOf(HeraldError);
    expect(error).toMatchObject({ kind: 'problem', problemType: '/problems/forbidden', channel: 'merchant:m_9', replyTo: command.id });
    expect(sub.state).toBe('failed');
    expect(client.subscription('merchant:m_9')).toBeUndefined();
  });

  it('retries a rate-limited subscribe after a backoff delay', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    conn.autoReply = false;

    const sub = client.subscribe(channel);
    const errored = new Promise<HeraldError>((resolve) => sub.once('error', resolve));
    const first = await conn.next('subscribe');
    conn.error('rate-limited', 'Over 50 commands per second', { replyTo: first.id }); // as the edge sends it: no channel
    expect(await errored).toMatchObject({ problemType: '/problems/rate-limited', channel });
    expect(sub.state).toBe('subscribing');

    const second = await conn.next('subscribe');
    expect(second.id).not.toBe(first.id);
    const subscribed = nextSubscribed(sub);
    conn.subscribed(second);
    await subscribed;
    expect(sub.state).toBe('subscribed');
  });

  it('unsubscribes: the server is told, late events are not delivered', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);
    let delivered = 0;
    sub.on('event', () => delivered++);

    await sub.unsubscribe();
    const command = conn.commands.find((c) => c.type === 'unsubscribe');
    expect(command).toEqual({ type: 'unsubscribe', id: expect.any(String), data: { channel } });
    expect(sub.state).toBe('unsubscribed');

    conn.event(channel, '1-0', 'payment.created', payment);
    const pong = await client.ping(); // the ping's reply comes after the event: the event was seen
    expect(pong).toBeGreaterThanOrEqual(0);
    expect(delivered).toBe(0);
    expect(client.stats().unroutedEvents).toBe(1);
  });

  it('times out a subscribe the server never answers, and reconnects', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url, { commandTimeout: 50 });
    await client.connect();
    const conn = await server.nextConnection();
    conn.autoReply = false;

    const sub = client.subscribe(channel);
    const errored = new Promise<HeraldError>((resolve) => sub.once('error', resolve));
    const reconnecting = next(client, 'reconnecting');
    expect(await errored).toMatchObject({ kind: 'timeout', channel });
    const [info] = await reconnecting;
    expect(info).toMatchObject({ code: 1006, reason: 'subscribe timeout' });

    const conn2 = await server.nextConnection();
    expect((await conn2.next('subscribe')).data).toEqual({ channel });
    await nextSubscribed(sub);
  });
});
