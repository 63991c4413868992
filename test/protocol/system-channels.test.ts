/**
 * Herald's own channels (`_herald:*`): the console's stats on `_herald:stats` open to a
 * token with the scope admin only. Grants do not open them, not even `*`, an exact
 * `_herald:stats` or `_herald:*`; the refusal is `forbidden` on the subscribe and the
 * connection stays open. An admin token needs no grant for them. Every edge with
 * CONSOLE_ENABLED (on in `herald start`) publishes a `herald.stats` event once a second,
 * whose data matches NODE_STATS_SCHEMA; stats traffic is not counted as events.
 */
import { Ajv } from 'ajv';
import { NODE_STATS_SCHEMA } from '@herald/edge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const STATS = '_herald:stats';
let herald: HeraldProcess;
let disabled: HeraldProcess;

beforeAll(async () => {
  [herald, disabled] = await Promise.all([startHerald(), startHerald({ env: { CONSOLE_ENABLED: 'false' } })]);
});

afterAll(async () => {
  await Promise.all([herald?.stop(), disabled?.stop()]);
});

function open(claims: Record<string, unknown>, target = herald): Promise<TestClient> {
  return TestClient.open(target.wsUrl, { token: clientToken(claims), protocols: 'v1.json' });
}

describe('the stats channel', () => {
  const refused: Array<[string, Record<string, unknown>]> = [
    ['a * grant', { channels: ['*'] }],
    ['an exact grant of the channel', { channels: [STATS] }],
    ['a _herald:* grant', { channels: ['_herald:*'] }],
    ['a * grant and scope events:publish', { channels: ['*'], scope: 'events:publish' }],
    ['a scope that only contains the word', { channels: ['*'], scope: 'administrator admin:read' }],
    ['no grant at all', {}],
  ];
  for (const [name, claims] of refused) {
    it(`is forbidden without the scope admin: ${name}`, async () => {
      const client = await open(claims);
      const reply = await client.subscribe(STATS);
      expect(reply).toMatchObject({ type: 'error', error: { type: '/problems/forbidden' } });
      expect(reply.error.message).toContain('scope admin');
      // The connection stays open and usable.
      client.send({ type: 'ping', id: 'p' });
      expect(await client.next((frame) => frame.replyTo === 'p')).toMatchObject({ type: 'pong' });
      client.close();
    });
  }

  it('opens to the scope admin without any grant; a stats event a second, matching the schema, stats not counted as events', async () => {
    const client = await open({ scope: 'events:publish admin' });
    expect(await client.subscribe(STATS)).toMatchObject({ type: 'subscribed', data: { channel: STATS } });
    const validate = new Ajv({ allErrors: true, strict: false }).compile(NODE_STATS_SCHEMA);
    const first = await client.next((frame) => frame.channel === STATS, 3_000);
    const second = await client.next((frame) => frame.channel === STATS && frame.seq !== first.seq, 3_000);
    for (const event of [first, second]) {
      expect(event).toMatchObject({ type: 'herald.stats', channel: STATS });
      expect(validate(event.data), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(second.data.connections).toBeGreaterThanOrEqual(1);
    expect(second.data.subscriptions).toBeGreaterThanOrEqual(1);
    expect(second.data.at - first.data.at).toBeGreaterThanOrEqual(900);
    expect(second.data.at - first.data.at).toBeLessThan(2_000);
    // The stats this client received are Herald's own traffic, not events.
    expect(second.data.eventsIn).toBe(0);
    expect(second.data.deliveries).toBe(0);
    expect(second.data.lag.count).toBe(0);
    client.close();
  });

  it('a refresh to a token without the scope admin drops the channel (unsubscribed, reason forbidden)', async () => {
    const client = await open({ sub: 'ops', scope: 'admin', channels: ['merchant:m_1'] });
    expect(await client.subscribe(STATS)).toMatchObject({ type: 'subscribed' });
    expect(await client.subscribe('merchant:m_1')).toMatchObject({ type: 'subscribed' });
    client.send({ type: 'refresh', id: 'r', data: { token: clientToken({ sub: 'ops', channels: ['*'] }) } });
    expect(await client.next((frame) => frame.replyTo === 'r')).toMatchObject({ type: 'refreshed' });
    expect(await client.next((frame) => frame.type === 'unsubscribed')).toMatchObject({ data: { channel: STATS, reason: 'forbidden' } });
    // merchant:m_1 stays: the * grant covers it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.frames.filter((frame) => frame.type === 'unsubscribed')).toHaveLength(1);
    client.close();
  });

  it('without CONSOLE_ENABLED nothing is published and /console is not served', async () => {
    const client = await open({ scope: 'admin' }, disabled);
    expect(await client.subscribe(STATS)).toMatchObject({ type: 'subscribed' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(client.frames.filter((frame) => frame.channel === STATS)).toEqual([]);
    client.close();
    expect((await fetch(`${disabled.url}/console/`)).status).toBe(404);
  });
});

describe('GET /console', () => {
  it('serves the page, its style sheet and modules from this origin, under a strict policy', async () => {
    const redirect = await fetch(`${herald.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/console/');
    const page = await fetch(`${herald.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'none'");
    const html = await page.text();
    // Everything from this origin (the icon is an empty data: URL, so the browser asks for none).
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((source) => source !== 'data:,');
    expect(sources.length).toBeGreaterThanOrEqual(2);
    for (const source of sources) {
      expect(source.startsWith('/console/')).toBe(true);
      expect((await fetch(`${herald.url}${source}`)).status).toBe(200);
    }
    const main = await (await fetch(`${herald.url}/console/app/console-app/main.js`)).text();
    for (const module of main.matchAll(/from '([^']+)'/g)) expect(module[1]!.startsWith('.')).toBe(true);
    expect((await fetch(`${herald.url}/console/nothing.js`)).status).toBe(404);
    expect((await fetch(`${herald.url}/console/`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});
