/**
 * PROTOCOL.md section 3, "Recovery": subscribe with `since` delivers the missed events
 * still in history, in order, then live ones, with no gap and no duplicate; when
 * history cannot cover `since`, `recovered:false` and `continuity-lost`.
 */
import { compareSeq } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish, publishBatch } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';

const HISTORY_SIZE = 50;

let herald: HeraldProcess;
let merchantCounter = 0;

beforeAll(async () => {
  herald = await startHerald({ env: { HISTORY_SIZE: String(HISTORY_SIZE), MAX_COMMANDS_PER_SECOND: '10000' } });
});

afterAll(async () => {
  await herald?.stop();
});

function freshMerchant(): string {
  return `m_rec_${process.pid}_${++merchantCounter}`;
}

function open(): Promise<TestClient> {
  return TestClient.open(herald.wsUrl, { token: clientToken({ channels: ['merchant:*'] }), protocols: 'v1.json' });
}

/** Publishes `count` events of the merchant one after the other; returns their ids in order. */
async function publishSequentially(merchant: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const event = paymentCreated(merchant);
    const answer = await publish(herald.url, event);
    expect(answer.status).toBe(202);
    ids.push(event.id as string);
  }
  return ids;
}

function expectStrictlyIncreasing(events: Frame[]): void {
  for (let i = 1; i < events.length; i++) expect(compareSeq(events[i]!.seq, events[i - 1]!.seq)).toBeGreaterThan(0);
}

describe('recovery with since', () => {
  it('delivers exactly the missed events in order, then live ones: no gap, no duplicate', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    const before = await publishSequentially(merchant, 3);
    const seen = await first.waitForEvents(3, channel);
    expect(seen.map((event) => event.id)).toEqual(before);
    const lastSeq = seen.at(-1)!.seq as string;
    await first.close();

    const missed = await publishSequentially(merchant, 5);

    const second = await open();
    second.send({ type: 'subscribe', id: 'resub', data: { channel, since: lastSeq } });
    const reply = await second.next((frame) => frame.replyTo === 'resub');
    expect(reply).toMatchObject({ type: 'subscribed', replyTo: 'resub', data: { channel, recovered: true, missed: 5 } });
    const recovered = await second.waitForEvents(5, channel);
    // The reply comes before the recovered events.
    expect(second.frames.indexOf(reply)).toBeLessThan(second.frames.indexOf(recovered[0]!));
    expect(recovered.map((event) => event.id)).toEqual(missed);

    const live = await publishSequentially(merchant, 2);
    const all = await second.waitForEvents(7, channel);
    await second.sync();
    expect(second.events(channel).map((event) => event.id)).toEqual([...missed, ...live]);
    expectStrictlyIncreasing([...seen, ...all]);
    expect(compareSeq(all[0]!.seq, lastSeq)).toBeGreaterThan(0);
    await second.close();
  });

  it('answers recovered:true, missed:0 when nothing was missed, then delivers live events', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    await publishSequentially(merchant, 2);
    const seen = await first.waitForEvents(2, channel);
    await first.close();

    const second = await open();
    const reply = await second.subscribe(channel, seen.at(-1)!.seq);
    expect(reply.data).toEqual({ channel, recovered: true, missed: 0 });
    const live = await publishSequentially(merchant, 1);
    const [event] = await second.waitForEvents(1, channel);
    expect(event!.id).toBe(live[0]);
    await second.sync();
    expect(second.events(channel)).toHaveLength(1);
    expect(second.errors()).toHaveLength(0);
    await second.close();
  });

  it('recovers from an earlier seq than the last one: everything after it', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    const ids = await publishSequentially(merchant, 6);
    const seen = await first.waitForEvents(6, channel);
    await first.close();

    const second = await open();
    const reply = await second.subscribe(channel, seen[1]!.seq);
    expect(reply.data).toEqual({ channel, recovered: true, missed: 4 });
    const recovered = await second.waitForEvents(4, channel);
    expect(recovered.map((event) => event.id)).toEqual(ids.slice(2));
    expect(recovered.map((event) => event.seq)).toEqual(seen.slice(2).map((event) => event.seq));
    await second.close();
  });

  it('a recovered event is byte-for-byte the same frame as the live one', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    await publishSequentially(merchant, 2);
    const seen = await first.waitForEvents(2, channel);
    await first.close();
    const second = await open();
    await second.subscribe(channel, seen[0]!.seq);
    const [recovered] = await second.waitForEvents(1, channel);
    expect(recovered).toEqual(seen[1]);
    await second.close();
  });

  it('since older than the retained history (HISTORY_SIZE): recovered:false and continuity-lost for the channel, then live events', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    await publishSequentially(merchant, 1);
    const [old] = await first.waitForEvents(1, channel);
    await first.close();

    // More than HISTORY_SIZE events after `since`: the oldest of them are gone.
    for (let i = 0; i < 3; i++) {
      const answer = await publishBatch(herald.url, Array.from({ length: 20 }, () => paymentCreated(merchant)));
      expect(answer.status).toBe(207);
    }

    const second = await open();
    second.send({ type: 'subscribe', id: 'too-old', data: { channel, since: old!.seq } });
    const reply = await second.next((frame) => frame.replyTo === 'too-old');
    expect(reply).toMatchObject({ type: 'subscribed', data: { channel, recovered: false } });
    const lost = await second.next((frame) => frame.type === 'error');
    expect(lost.error.type).toBe('/problems/continuity-lost');
    expect(lost.error.message).toEqual(expect.any(String));
    expect(lost.channel).toBe(channel);
    expect(lost.timestamp).toMatch(/\.\d{3}Z$/);
    // No partial replay of what is left.
    await second.sync();
    expect(second.events(channel)).toHaveLength(0);
    // The subscription is live and the connection open.
    const live = await publishSequentially(merchant, 1);
    const [event] = await second.waitForEvents(1, channel);
    expect(event!.id).toBe(live[0]);
    await second.close();
  });

  it('since exactly at the edge of the retained history still recovers everything', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    await publishSequentially(merchant, 1);
    const [old] = await first.waitForEvents(1, channel);
    await first.close();
    // Exactly HISTORY_SIZE events after `since`: all of them are still retained.
    const batch = Array.from({ length: HISTORY_SIZE }, () => paymentCreated(merchant));
    expect((await publishBatch(herald.url, batch)).status).toBe(207);

    const second = await open();
    const reply = await second.subscribe(channel, old!.seq);
    expect(reply.data).toEqual({ channel, recovered: true, missed: HISTORY_SIZE });
    const recovered = await second.waitForEvents(HISTORY_SIZE, channel);
    expect(recovered.map((event) => event.id)).toEqual(batch.map((event) => event.id));
    await second.close();
  });

  it('since older than HISTORY_TTL: recovered:false and continuity-lost; since at the top of an expired history still recovers (nothing missed)', async () => {
    const ttl = await startHerald({ env: { HISTORY_TTL: '300ms' } });
    try {
      const merchant = freshMerchant();
      const channel = `merchant:${merchant}`;
      const token = clientToken({ channels: ['merchant:*'] });
      const first = await TestClient.open(ttl.wsUrl, { token });
      await first.subscribe(channel);
      for (let i = 0; i < 3; i++) expect((await publish(ttl.url, paymentCreated(merchant))).status).toBe(202);
      const seen = await first.waitForEvents(3, channel);
      await first.close();
      // Time is the only signal of expiry.
      await new Promise((resolve) => setTimeout(resolve, 600));

      const second = await TestClient.open(ttl.wsUrl, { token });
      const reply = await second.subscribe(channel, seen[0]!.seq);
      expect(reply.data).toMatchObject({ channel, recovered: false });
      const lost = await second.next((frame) => frame.type === 'error');
      expect(lost.error.type).toBe('/problems/continuity-lost');
      expect(lost.channel).toBe(channel);
      await second.sync();
      expect(second.events(channel)).toHaveLength(0);
      await second.close();

      // The client had everything: the expired history hides no gap from it.
      const third = await TestClient.open(ttl.wsUrl, { token });
      const upToDate = await third.subscribe(channel, seen[2]!.seq);
      expect(upToDate.data).toEqual({ channel, recovered: true, missed: 0 });
      await third.sync();
      expect(third.errors()).toHaveLength(0);
      await third.close();
    } finally {
      await ttl.stop();
    }
  });

  it('a since the channel never had (history lost or another server): recovered:false and continuity-lost', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const client = await open();
    const reply = await client.subscribe(channel, `${Date.now() - 60_000}-0`);
    expect(reply.data).toMatchObject({ channel, recovered: false });
    const lost = await client.next((frame) => frame.type === 'error');
    expect(lost.error.type).toBe('/problems/continuity-lost');
    expect(lost.channel).toBe(channel);
    await client.close();
  });

  it('no gap and no duplicate between history and live while many events are in flight during the resubscribe', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    // A witness that stays subscribed the whole time gives the channel's true order.
    const witness = await open();
    await witness.subscribe(channel);
    const first = await open();
    await first.subscribe(channel);

    let publishing = true;
    let published = 0;
    const publisher = (async () => {
      // Batches of one to five events, back to back, from two concurrent producers.
      const producer = async () => {
        while (publishing) {
          const batch = Array.from({ length: 1 + (published % 5) }, () => paymentCreated(merchant));
          published += batch.length;
          const answer = await publishBatch(herald.url, batch);
          expect(answer.status).toBe(207);
        }
      };
      await Promise.all([producer(), producer()]);
    })();

    const resumed: Frame[][] = [];
    let current = first;
    try {
      for (let round = 0; round < 6; round++) {
        // Take a few events, leave, and come back with since while publishing continues.
        const have = current.events(channel).length;
        await current.waitForEvents(have + 10, channel);
        const events = current.events(channel);
        resumed.push(events);
        await current.close();
        current = await open();
        const reply = await current.subscribe(channel, events.at(-1)!.seq);
        expect(reply.data.recovered).toBe(true);
      }
      await current.waitForEvents(current.events(channel).length + 10, channel);
    } finally {
      publishing = false;
      await publisher;
    }
    await witness.waitForEvents(published, channel);
    await current.waitForEvents(0, channel);
    await witness.sync();
    await current.sync();
    // The last connection catches up with the witness: every event exactly once, in order.
    const truth = witness.events(channel);
    expect(truth).toHaveLength(published);
    expectStrictlyIncreasing(truth);
    const stitched = [...resumed.flat(), ...current.events(channel)];
    expect(stitched.map((event) => event.seq)).toEqual(truth.map((event) => event.seq));
    expect(stitched.map((event) => event.id)).toEqual(truth.map((event) => event.id));
    await witness.close();
    await current.close();
  });
});
