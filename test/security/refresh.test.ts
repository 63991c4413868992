/**
 * PROTOCOL.md section 11, the token of a live connection: `connected.data.expiresAt`,
 * and `refresh` (JSON and protobuf). A refresh gets the handshake's checks (the one JWT
 * verifier, with JWT_ISSUER and JWT_MAX_TTL here), the same `sub`; accepted, the
 * connection lives by the new token's exp and grants, and channels the new grants no
 * longer cover are dropped with `unsubscribed` reason `forbidden`; refused, the
 * connection keeps its old token and closes 1008 at the old exp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { waitForEventId } from '../support/cluster.js';
import { clientToken, epochSeconds, type ClientClaims } from '../support/tokens.js';
import { TestClient, type ConnectOptions } from '../support/ws-client.js';

const ISSUER = 'https://issuer.herald.test';
const PRODUCER_KEY = 'producer-key-0123456789';
const asProducer = { authorization: `Bearer ${PRODUCER_KEY}` };
let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({ env: { JWT_ISSUER: ISSUER, JWT_MAX_TTL: '2h', INGEST_API_KEYS: PRODUCER_KEY } });
});

afterAll(async () => {
  await herald?.stop();
});

/** A token of the configured issuer; `ttl` seconds from now unless `exp` is given. */
function token(claims: ClientClaims = {}, ttl = 3600): string {
  return clientToken({ iss: ISSUER, exp: epochSeconds(ttl), ...claims });
}

const FORMATS: Array<[string, ConnectOptions]> = [
  ['v1.json', {}],
  ['v1.protobuf', { codec: 'protobuf', protocols: 'v1.protobuf' }],
];

describe.each(FORMATS)('%s', (_name, format) => {
  const open = (tokenText: string): Promise<TestClient> => TestClient.open(herald.wsUrl, { token: tokenText, ...format });

  it('connected.data.expiresAt is the token exp (ISO 8601 with milliseconds)', async () => {
    const exp = epochSeconds(1800);
    const client = await open(token({ exp }));
    expect(client.frames[0]!.data.expiresAt).toBe(new Date(exp * 1000).toISOString());
    await client.close();
  });

  it('refresh with narrowed grants: refreshed {expiresAt}, unsubscribed {channel, reason: forbidden}, the rest keeps flowing', async () => {
    const sub = `narrow-${format.codec ?? 'json'}-${process.pid}`;
    const kept = `merchant:keep_${format.codec ?? 'json'}_${process.pid}`;
    const dropped = `merchant:drop_${format.codec ?? 'json'}_${process.pid}`;
    const client = await open(token({ sub, channels: ['merchant:*'] }));
    expect((await client.subscribe(kept)).type).toBe('subscribed');
    expect((await client.subscribe(dropped)).type).toBe('subscribed');

    const exp = epochSeconds(5400);
    const reply = await client.request('refresh', { token: token({ sub, channels: [kept], exp }) });
    expect(reply).toMatchObject({ type: 'refreshed', data: { expiresAt: new Date(exp * 1000).toISOString() } });
    const unsubscribed = await client.next((frame) => frame.type === 'unsubscribed');
    expect(unsubscribed.data).toEqual({ channel: dropped, reason: 'forbidden' });
    expect(unsubscribed.replyTo).toBeUndefined();

    // The dropped channel delivers nothing more and cannot be subscribed again; the kept one delivers.
    const gone = paymentCreated(dropped.slice('merchant:'.length));
    expect((await publish(herald.url, gone, asProducer)).status).toBe(202);
    const still = paymentCreated(kept.slice('merchant:'.length));
    expect((await publish(herald.url, still, asProducer)).status).toBe(202);
    await waitForEventId(client, kept, still.id as string);
    await client.sync();
    expect(client.events(dropped).map((event) => event.id)).not.toContain(gone.id);
    const refused = await client.subscribe(dropped);
    expect(refused.error.type).toBe('/problems/forbidden');
    await client.close();
  });

  it('refused (another sub, expired, bad issuer, over JWT_MAX_TTL, bad signature, over the size limit): unauthorized, the old token stays and closes 1008 at its exp', async () => {
    const sub = `keep-${format.codec ?? 'json'}-${process.pid}`;
    const oldExp = epochSeconds(3);
    const client = await open(token({ sub, exp: oldExp }));
    const refusals = [
      token({ sub: 'someone-else' }),
      token({ sub, exp: epochSeconds(-5) }),
      clientToken({ sub, iss: 'https://other.issuer', exp: epochSeconds(600) }),
      token({ sub }, 3 * 3600),
      clientToken({ sub, iss: ISSUER, exp: epochSeconds(600) }, {}, 'another-secret-0123456789abcdefgh'),
      token({ sub, padding: 'x'.repeat(9_000) }),
      '',
    ];
    for (const refused of refusals) {
      const reply = await client.request('refresh', { token: refused });
      expect(reply).toMatchObject({ type: 'error', error: { type: '/problems/unauthorized' } });
    }
    expect((await client.request('ping')).type).toBe('pong');
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    // Closed by the old exp (whole seconds, swept within a second), not later.
    expect(Date.now()).toBeLessThan(oldExp * 1000 + 2_000);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', error: { type: '/problems/unauthorized' } });
  });

  it('accepted: the connection lives by the new exp, past the old one', async () => {
    const sub = `extend-${format.codec ?? 'json'}-${process.pid}`;
    const oldExp = epochSeconds(2);
    const client = await open(token({ sub, exp: oldExp }));
    expect((await client.request('refresh', { token: token({ sub }) })).type).toBe('refreshed');
    // Nothing announces "not closed": wait past the old exp and the sweep, then ask.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, oldExp * 1000 - Date.now()) + 1_200));
    expect((await client.request('ping')).type).toBe('pong');
    await client.close();
  });
});

it('a refresh whose token is not a string is an invalid message (JSON)', async () => {
  const client = await TestClient.open(herald.wsUrl, { token: token() });
  expect((await client.request('refresh', { token: 42 })).error.type).toBe('/problems/invalid-message');
  expect((await client.request('refresh')).error.type).toBe('/problems/invalid-message');
  await client.close();
});
