/**
 * Tenant isolation (PROTOCOL.md section 4 under load): many merchants, clients whose
 * tokens grant one or two of them (or a `payment:*` pattern), events for every
 * merchant published in mixed batches. No connection ever receives an event of a
 * channel its token does not grant, and each receives all of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publishBatch } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const MERCHANTS = 20;
const EVENTS_PER_MERCHANT = 15;

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({ env: { MAX_COMMANDS_PER_SECOND: '1000' } });
});

afterAll(async () => {
  await herald?.stop();
});

interface Tenant {
  client: TestClient;
  grants: string[];
  /** Channels it subscribed to. */
  channels: string[];
}

/** A channel is granted when an exact grant names it or a `prefix*` grant starts it. */
function granted(grants: string[], channel: string): boolean {
  return grants.some((grant) => (grant.endsWith('*') ? channel.startsWith(grant.slice(0, -1)) : grant === channel));
}

describe('tenant isolation', () => {
  it('no connection receives an event of a channel its token does not grant; each gets all of its own', async () => {
    const run = `${process.pid}_${Date.now().toString(36)}`;
    const merchants = Array.from({ length: MERCHANTS }, (_, i) => `m_iso_${run}_${i}`);
    // Payment ids are chosen up front so that a `payment:*` holder can subscribe to some.
    const events = merchants.flatMap((merchant, m) =>
      Array.from({ length: EVENTS_PER_MERCHANT }, (_, i) =>
        paymentCreated(merchant, {
          id: `evt_iso_${run}_${m}_${i}`,
          data: { payment_id: `pay_iso_${run}_${m}_${i}`, order_id: `ord_iso_${run}_${m}_${i}`, merchant_id: merchant, amount: 100 + i, currency: 'EUR', status: 'pending' },
        }),
      ),
    );

    const tenants: Tenant[] = [];
    const connect = async (sub: string, grants: string[], channels: string[]) => {
      const client = await TestClient.open(herald.wsUrl, { token: clientToken({ sub, channels: grants }), protocols: 'v1.json' });
      tenants.push({ client, grants, channels });
      return client;
    };
    const opening: Array<Promise<TestClient>> = [];
    // One client per merchant, two clients for some merchants.
    for (let m = 0; m < MERCHANTS; m++) {
      const channel = `merchant:${merchants[m]}`;
      opening.push(connect(`user-${m}`, [channel], [channel]));
      if (m % 4 === 0) opening.push(connect(`user-${m}-b`, [channel], [channel]));
    }
    // Clients granted two merchants each.
    for (let m = 0; m < MERCHANTS; m += 2) {
      const pair = [`merchant:${merchants[m]}`, `merchant:${merchants[m + 1]}`];
      opening.push(connect(`pair-${m}`, pair, pair));
    }
    // A payment:* holder subscribed to the payments of merchant 3 only.
    const payments3 = Array.from({ length: EVENTS_PER_MERCHANT }, (_, i) => `payment:pay_iso_${run}_3_${i}`);
    opening.push(connect('payments-reader', ['payment:*'], payments3));
    // A pattern grant that also matches other merchants (m_..._1 is a prefix of m_..._1x),
    // subscribed to merchant 1 only: it gets merchant 1 and nothing of m_..._10 to 19.
    opening.push(connect('prefix-reader', [`merchant:${merchants[1]}*`], [`merchant:${merchants[1]}`]));
    await Promise.all(opening);

    // Everyone subscribes to its own channels and tries a neighbour's (refused).
    await Promise.all(
      tenants.map(async (tenant, index) => {
        for (const channel of tenant.channels) expect((await tenant.client.subscribe(channel)).type).toBe('subscribed');
        const foreign = `merchant:${merchants[(index * 7 + 5) % MERCHANTS]}`;
        const reply = await tenant.client.subscribe(foreign);
        if (!granted(tenant.grants, foreign)) {
          expect(reply.error?.type).toBe('/problems/forbidden');
          return;
        }
        expect(reply.type).toBe('subscribed');
        tenant.channels.push(foreign);
      }),
    );

    // Interleave merchants in every batch, several batches in flight at once.
    const shuffled = events.map((event, i) => ({ event, key: (i * 7919) % events.length })).sort((a, b) => a.key - b.key).map((x) => x.event);
    const batches: Array<Array<Record<string, unknown>>> = [];
    for (let i = 0; i < shuffled.length; i += 40) batches.push(shuffled.slice(i, i + 40));
    const answers = await Promise.all(batches.map((batch) => publishBatch(herald.url, batch)));
    for (const answer of answers) {
      expect(answer.status).toBe(207);
      for (const result of answer.body.results) expect(result.status).toBe(202);
    }

    for (const tenant of tenants) {
      const expected = events.filter((event) => {
        const data = event.data as Record<string, string>;
        return [`merchant:${data.merchant_id}`, `payment:${data.payment_id}`, `order:${data.order_id}`].some((c) => tenant.channels.includes(c));
      });
      await tenant.client.waitForEvents(expected.length, undefined, 10_000);
      // A barrier: everything queued for this connection before it has arrived.
      await tenant.client.sync();
      const received = tenant.client.events();
      for (const event of received) {
        expect(granted(tenant.grants, event.channel), `${event.channel} not granted to ${tenant.grants.join(',')}`).toBe(true);
        expect(tenant.channels).toContain(event.channel);
      }
      // All of its own, each once per subscribed channel it belongs to.
      const perChannel = new Map<string, string[]>();
      for (const event of received) perChannel.set(event.channel, [...(perChannel.get(event.channel) ?? []), event.id]);
      for (const channel of tenant.channels) {
        const want = expected
          .filter((event) => {
            const data = event.data as Record<string, string>;
            return [`merchant:${data.merchant_id}`, `payment:${data.payment_id}`].includes(channel);
          })
          .map((event) => event.id)
          .sort();
        expect((perChannel.get(channel) ?? []).sort()).toEqual(want);
      }
      // Every event's data belongs to the merchant of the channel it came on.
      for (const event of received.filter((e) => e.channel.startsWith('merchant:'))) {
        expect(`merchant:${event.data.merchant_id}`).toBe(event.channel);
      }
    }
    await Promise.all(tenants.map((tenant) => tenant.client.close()));
  });
});
