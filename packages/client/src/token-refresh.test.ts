import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HeraldError } from './index.js';
import { refreshDelay } from './token-refresh.js';
import { next } from '../test-support/events.js';
import { cleanup, makeClient, nextSubscribed, startServer } from '../test-support/fixtures.js';
import { ManualTimers } from '../test-support/timers.js';

afterEach(cleanup);

/** ISO 8601 of a time on the manual clock (its epoch is 1970). */
const at = (ms: number): string => new Date(ms).toISOString();

/** Lets socket I/O run between steps of the manual clock. */
async function settle(client: { ping(): Promise<number> }): Promise<void> {
  await client.ping();
}

describe('refreshDelay', () => {
  it('is the time left minus min(30 s, 10%), minus up to half that again at random', () => {
    expect(refreshDelay(60_000, () => 0)).toBe(54_000);
    expect(refreshDelay(60_000, () => 0.999_999)).toBe(51_000);
    expect(refreshDelay(3_600_000, () => 0)).toBe(3_570_000);
    expect(refreshDelay(3_600_000, () => 0.5)).toBe(3_562_500);
    expect(refreshDelay(0, () => 0)).toBe(0);
    expect(refreshDelay(-5_000, () => 0)).toBe(0);
  });
});

describe('token refresh with getToken', () => {
  it('sends refresh with a new token shortly before expiresAt, without reconnecting; reconnects later use it', async () => {
    const timers = new ManualTimers();
    // tok_1 lives 60 s on the manual clock, each later token 60 s from when it is asked for.
    const server = await startServer({ expiresAt: (token) => (token === undefined ? undefined : at(timers.now() + 60_000)) });
    let issued = 0;
    const getToken = vi.fn(() => `tok_${++issued}`);
    const { client } = makeClient(server.url, { token: undefined, getToken, timers, random: () => 0 });
    const info = await client.connect();
    expect(info.expiresAt).toBe(at(60_000));
    const conn1 = await server.nextConnection();
    expect(conn1.token).toBe('tok_1');
    const sub = client.subscribe('merchant:m_42');
    await nextSubscribed(sub);

    timers.advance(53_999);
    await settle(client);
    expect(conn1.commands.some((command) => command.type === 'refresh')).toBe(false);
    timers.advance(1);
    const refresh = await conn1.next('refresh');
    expect(refresh.data).toEqual({ token: 'tok_2' });
    await settle(client);
    expect(client.connection?.expiresAt).toBe(at(54_000 + 60_000));
    expect(server.connections).toBe(1);
    expect(sub.state).toBe('subscribed');

    // The next one is scheduled from the new expiresAt.
    timers.advance(54_000);
    expect((await conn1.next('refresh')).data).toEqual({ token: 'tok_3' });
    await settle(client);

    // A reconnect presents the last refreshed token, without asking getToken again.
    await conn1.close(1001, 'node draining');
    timers.advance(1_000);
    const conn2 = await server.nextConnection();
    expect(conn2.token).toBe('tok_3');
    expect(getToken).toHaveBeenCalledTimes(3);
  });

  it('getToken failing: an error event (kind token), then tried again after the backoff delay', async () => {
    const timers = new ManualTimers();
    const server = await startServer({ expiresAt: () => at(timers.now() + 60_000) });
    let calls = 0;
    const getToken = vi.fn(() => (++calls === 2 ? Promise.reject(new Error('issuer down')) : Promise.resolve(`tok_${calls}`)));
    const { client } = makeClient(server.url, { token: undefined, getToken, timers, random: () => 0.5, backoff: { initialDelay: 1_000, maxDelay: 4_000 } });
    await client.connect();
    const conn = await server.nextConnection();
    const errored = next(client, 'error');
    timers.advance(refreshDelay(60_000, () => 0.5));
    const [error] = (await errored) as [HeraldError];
    expect(error).toMatchObject({ kind: 'token', message: 'getToken() failed: issuer down' });
    timers.advance(499);
    await settle(client);
    expect(getToken).toHaveBeenCalledTimes(2);
    timers.advance(1);
    expect((await conn.next('refresh')).data).toEqual({ token: 'tok_3' });
    expect(server.connections).toBe(1);
  });

  it('a refused refresh: an error event (the problem), tried again; the client keeps its connection', async () => {
    const timers = new ManualTimers();
    const server = await startServer({ expiresAt: () => at(timers.now() + 60_000) });
    let issued = 0;
    const { client } = makeClient(server.url, { token: undefined, getToken: () => `tok_${++issued}`, timers, random: () => 0, backoff: { initialDelay: 1_000, maxDelay: 1_000 } });
    await client.connect();
    const conn = await server.nextConnection();
    conn.autoReply = false;
    timers.advance(54_000);
    const first = await conn.next('refresh');
    const errored = next(client, 'error');
    conn.error('unauthorized', 'Invalid token: token revoked; the connection keeps its current token', { replyTo: first.id });
    expect((await errored)[0]).toMatchObject({ kind: 'problem', problemType: '/problems/unauthorized' });
    expect(client.state).toBe('open');
    timers.advance(1_000); // random 0: the backoff delay is 0, the timer fires at once
    const second = await conn.next('refresh');
    expect(second.data).toEqual({ token: 'tok_3' });
    conn.refreshed(second, at(timers.now() + 60_000));
    await new Promise((resolve) => setTimeout(resolve, 0));
    conn.autoReply = true;
    await settle(client);
    expect(client.connection?.expiresAt).toBe(at(timers.now() + 60_000));
  });

  it('without getToken (a static token) nothing is refreshed: the server closes 1008 at expiry', async () => {
    const timers = new ManualTimers();
    const server = await startServer({ expiresAt: () => at(timers.now() + 60_000) });
    const { client } = makeClient(server.url, { timers });
    const info = await client.connect();
    expect(info.expiresAt).toBe(at(60_000));
    const conn = await server.nextConnection();
    timers.advance(59_000);
    await settle(client);
    expect(conn.commands.some((command) => command.type === 'refresh')).toBe(false);
  });
});

describe('a channel the refreshed token no longer grants', () => {
  it('unsubscribed with reason forbidden: the subscription fails for good and is not resubscribed', async () => {
    const server = await startServer();
    const { client } = makeClient(server.url, { getToken: () => 'tok_next' });
    await client.connect();
    const conn1 = await server.nextConnection();
    const kept = client.subscribe('merchant:m_1');
    const lost = client.subscribe('merchant:m_2');
    await Promise.all([nextSubscribed(kept), nextSubscribed(lost)]);
    const failed = new Promise<HeraldError>((resolve) => lost.once('error', resolve));
    conn1.unsubscribed('merchant:m_2', 'forbidden');
    expect(await failed).toMatchObject({ kind: 'problem', problemType: '/problems/forbidden', channel: 'merchant:m_2' });
    expect(lost.state).toBe('failed');
    expect(client.subscription('merchant:m_2')).toBeUndefined();

    await conn1.close(1001);
    const conn2 = await server.nextConnection();
    expect((await conn2.next('subscribe')).data).toEqual({ channel: 'merchant:m_1' });
    await client.ping();
    expect(conn2.commands.filter((command) => command.type === 'subscribe')).toHaveLength(1);
  });
});
