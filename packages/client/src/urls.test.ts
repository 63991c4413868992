import { afterEach, describe, expect, it } from 'vitest';
import type { HeraldError, UrlRequest } from './index.js';
import { HeraldClient } from './index.js';
import { next, nextMatching } from '../test-support/events.js';
import { cleanup, makeClient, nextSubscribed, startServer } from '../test-support/fixtures.js';
import { sequenceRandom } from '../test-support/timers.js';

afterEach(cleanup);

const channel = 'merchant:m_42';

describe('a list of node URLs', () => {
  it('starts on a random node, and after a 1001 (draining) reconnects to another one and resubscribes there', async () => {
    const a = await startServer();
    const b = await startServer();
    const c = await startServer();
    // Picks: index floor(0.4 * 3) = 1 (b); backoff jitter 0; then floor(0.9 * 2) = 1 among
    // [a, c] (b excluded) = c.
    const { client } = makeClient(a.url, { url: [a.url, b.url, c.url], random: sequenceRandom([0.4, 0, 0.9]) });
    const first = await client.connect();
    expect(first.url).toBe(b.url);
    const connB = await b.nextConnection();
    const sub = client.subscribe(channel);
    await nextSubscribed(sub);
    connB.event(channel, '1763719200123-0', 'payment.created', {});

    const reconnected = nextMatching(client, 'connected', (info) => info.reconnected);
    const resubscribed = nextSubscribed(sub);
    await connB.close(1001, 'node draining: reconnect to another node');
    expect((await reconnected)[0].url).toBe(c.url);
    const command = await (await c.nextConnection()).next('subscribe');
    expect(command.data).toEqual({ channel, since: '1763719200123-0' });
    expect(await resubscribed).toMatchObject({ recovered: true, resubscribed: true });
    expect(a.connections).toBe(0);
    expect(client.connection?.url).toBe(c.url);
  });

  it('never retries the node that just refused, and spreads over the others', async () => {
    const live = await startServer();
    const dead = await startServer();
    const deadUrl = dead.url;
    await dead.close(); // ECONNREFUSED from now on
    const picked: string[] = [];
    const { client } = makeClient(live.url, { url: [deadUrl, live.url], random: sequenceRandom([0.1, 0]) });
    client.on('reconnecting', () => picked.push('retry'));
    const info = await client.connect();
    // floor(0.1 * 2) = 0: the dead node first; the retry can only go to the other one.
    expect(picked).toEqual(['retry']);
    expect(info.url).toBe(live.url);
  });

  it('normalises every entry and refuses an empty list', () => {
    expect(() => new HeraldClient({ url: [] })).toThrow(TypeError);
    expect(() => new HeraldClient({ url: ['ws://a.example/v1/ws', 'ftp://b.example'] })).toThrow(TypeError);
  });
});

describe('a URL provider', () => {
  it('is asked before every attempt with the previous URL and close code', async () => {
    const a = await startServer();
    const b = await startServer();
    const requests: UrlRequest[] = [];
    const { client } = makeClient(a.url, {
      url: async (request) => {
        requests.push(request);
        return request.previous === undefined ? a.url.replace('/v1/ws', '') : b.url; // a bare origin is completed
      },
    });
    expect((await client.connect()).url).toBe(a.url);
    const connA = await a.nextConnection();
    const reconnected = nextMatching(client, 'connected', (info) => info.reconnected);
    await connA.close(1001, 'node draining: reconnect to another node');
    expect((await reconnected)[0].url).toBe(b.url);
    expect(requests).toEqual([
      { previous: undefined, code: undefined, attempt: 0 },
      { previous: a.url, code: 1001, attempt: 1 },
    ]);
  });

  it('a failing provider is an error of kind transport, then retried with backoff', async () => {
    const server = await startServer();
    let calls = 0;
    const { client } = makeClient(server.url, {
      url: () => {
        calls++;
        if (calls === 1) throw new Error('discovery down');
        return server.url;
      },
    });
    const error = next(client, 'error');
    const connected = client.connect();
    const [err] = (await error) as [HeraldError];
    expect(err.kind).toBe('transport');
    expect(err.message).toContain('discovery down');
    expect((await connected).url).toBe(server.url);
    expect(calls).toBe(2);
  });
});
