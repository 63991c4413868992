/**
 * The SDK's token lifecycle against a real `herald start` (PROTOCOL.md section 11):
 * with `getToken`, a client whose tokens live a few seconds refreshes each one shortly
 * before it expires over the same connection, with no reconnect and no event lost; a
 * revoked client (1008) asks `getToken()` for a token minted after the revocation,
 * reconnects and resumes its subscription with nothing lost.
 */
import { HeraldClient, type HeraldError } from '@herald/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { disconnectUser } from '../support/admin.js';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { clientToken, epochSeconds } from '../support/tokens.js';

let herald: HeraldProcess;
const clients: HeraldClient[] = [];

beforeAll(async () => {
  herald = await startHerald({ env: { JWT_REQUIRE_EXP: 'true' } });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await herald?.stop();
});

function client(getToken: () => Promise<string>): HeraldClient {
  const made = new HeraldClient({ url: herald.wsUrl, getToken, backoff: { initialDelay: 100, maxDelay: 300 } });
  clients.push(made);
  return made;
}

/** Resolves once the subscription delivered the event with this id. */
function received(sub: ReturnType<HeraldClient['subscribe']>, id: string): Promise<void> {
  return new Promise((resolve) => {
    const off = sub.on('event', (event) => {
      if (event.id !== id) return;
      off();
      resolve();
    });
  });
}

it('refreshes short-lived tokens before they expire, on the same connection, with nothing lost', { timeout: 30_000 }, async () => {
  const sub = `sdk-refresh-${process.pid}`;
  const merchant = `m_refresh_${process.pid}`;
  let issued = 0;
  const sdk = client(async () => {
    issued += 1;
    return clientToken({ sub, channels: [`merchant:${merchant}`], exp: epochSeconds(3) });
  });
  const errors: HeraldError[] = [];
  sdk.on('error', (error) => errors.push(error));
  const info = await sdk.connect();
  expect(info.expiresAt).toEqual(expect.any(String));
  const subscription = sdk.subscribe(`merchant:${merchant}`);
  await new Promise((resolve) => subscription.once('subscribed', resolve));

  // Three token lifetimes: each refresh arrives before its exp, or the server would close 1008.
  const ids: string[] = [];
  const until = Date.now() + 7_000;
  while (Date.now() < until) {
    const event = paymentCreated(merchant);
    ids.push(event.id as string);
    const delivered = received(subscription, event.id as string);
    expect((await publish(herald.url, event)).status).toBe(202);
    await delivered;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(issued).toBeGreaterThanOrEqual(3);
  const stats = sdk.stats();
  expect(stats).toMatchObject({ connects: 1, reconnects: 0, disconnects: 0 });
  expect(stats.subscriptions[`merchant:${merchant}`]).toMatchObject({ received: ids.length, duplicates: 0 });
  expect(errors).toEqual([]);
  expect(Date.parse(sdk.connection!.expiresAt!)).toBeGreaterThan(Date.now());
});

it('after a revocation (1008) asks getToken() for a fresh token, reconnects and resumes losslessly', { timeout: 30_000 }, async () => {
  const sub = `sdk-revoked-${process.pid}`;
  const merchant = `m_revoked_${process.pid}`;
  let calls = 0;
  const sdk = client(async () => {
    calls += 1;
    return clientToken({ sub, channels: [`merchant:${merchant}`] });
  });
  const errors: HeraldError[] = [];
  sdk.on('error', (error) => errors.push(error));
  await sdk.connect();
  const subscription = sdk.subscribe(`merchant:${merchant}`);
  await new Promise((resolve) => subscription.once('subscribed', resolve));
  const first = paymentCreated(merchant);
  const firstSeen = received(subscription, first.id as string);
  await publish(herald.url, first);
  await firstSeen;

  const disconnected = new Promise<{ code: number }>((resolve) => sdk.once('disconnected', resolve));
  const reconnected = new Promise((resolve) => sdk.once('connected', resolve));
  expect((await disconnectUser(herald.url, sub)).status).toBe(202);
  expect((await disconnected).code).toBe(1008);
  // Published while the client is away: delivered after it resumes with `since`.
  const missed = paymentCreated(merchant);
  const missedSeen = received(subscription, missed.id as string);
  expect((await publish(herald.url, missed)).status).toBe(202);
  await reconnected;
  await missedSeen;
  expect(calls).toBeGreaterThanOrEqual(2);
  expect(errors.some((error) => error.problemType === '/problems/unauthorized')).toBe(true);
  expect(subscription.stats).toMatchObject({ received: 2, duplicates: 0 });
  expect(sdk.state).toBe('open');
});
