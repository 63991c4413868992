import { afterEach, describe, expect, it } from 'vitest';
import type { ClientState } from './index.js';
import { HeraldError } from './index.js';
import { next } from '../test-support/events.js';
import { cleanup, makeClient, nextSubscribed, startServer } from '../test-support/fixtures.js';

afterEach(cleanup);

const channel = 'merchant:m_42';

describe('close()', () => {
  it('closes with 1000, goes closing -> closed, and leaves no timer behind', async () => {
    const server = await startServer({ pingInterval: 20, readTimeout: 100 });
    const { client, timers } = makeClient(server.url);
    await client.connect();
    const conn = await server.nextConnection();
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);
    const pinging = client.ping();
    expect(timers.active).toBeGreaterThan(0); // heartbeat (and the ping's reply timeout)
    await pinging;

    const states: ClientState[] = [];
    client.on('state', (state) => states.push(state));
    const closedEvent = next(client, 'closed');
    await client.close();

    expect(states).toEqual(['closing', 'closed']);
    expect((await closedEvent)[0]).toMatchObject({ code: 1000 });
    expect(await conn.closed).toEqual({ code: 1000, reason: 'client closed' });
    expect(client.state).toBe('closed');
    expect(timers.active).toBe(0);
    expect(sub.state).toBe('subscribing'); // kept: a later connect() resumes it
    expect(server.connections).toBe(1);
  });

  it('during the backoff wait cancels the reconnect', async () => {
    const server = await startServer();
    const { client, timers } = makeClient(server.url, { random: () => 0.99, backoff: { initialDelay: 60_000, maxDelay: 60_000, goingAwayWindow: 60_000 } });
    await client.connect();
    const conn = await server.nextConnection();
    const reconnecting = next(client, 'reconnecting');
    conn.ws.close(1001, 'node draining: reconnect to another node');
    expect((await reconnecting)[0].delay).toBe(59_400);
    expect(timers.active).toBe(1); // the reconnect timer

    await client.close();
    expect(client.state).toBe('closed');
    expect(timers.active).toBe(0);
    expect(server.connections).toBe(1);
  });

  it('while connecting abandons the attempt and rejects connect()', async () => {
    const server = await startServer();
    const { client, timers } = makeClient(server.url);
    const connecting = client.connect();
    expect(client.state).toBe('connecting');
    await client.close();
    await expect(connecting).rejects.toBeInstanceOf(HeraldError);
    expect(client.state).toBe('closed');
    expect(timers.active).toBe(0);
  });

  it('rejects pending pings, and a later connect() resumes subscriptions from their last seq', async () => {
    const server = await startServer();
    const { client, timers } = makeClient(server.url);
    await client.connect();
    const conn1 = await server.nextConnection();
    conn1.autoReply = false;
    const sub = client.subscribe(channel);
    const command = await conn1.next('subscribe');
    conn1.subscribed(command);
    conn1.event(channel, '7-0', 'payment.created', {});
    await new Promise((resolve) => sub.once('event', resolve));
    const ping = client.ping();
    await conn1.next('ping');
    const pingFailed = expect(ping).rejects.toMatchObject({ kind: 'transport' });
    await client.close();
    await pingFailed;
    expect(timers.active).toBe(0);

    await client.connect();
    const conn2 = await server.nextConnection();
    expect((await conn2.next('subscribe')).data).toEqual({ channel, since: '7-0' });
  });
});
