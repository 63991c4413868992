/**
 * PROTOCOL.md section 3: the commands (subscribe, unsubscribe, ping), command ids and
 * replyTo, unknown types, and the shape and order of event frames.
 */
import { compareSeq } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish, publishBatch } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let herald: HeraldProcess;
let merchantCounter = 0;

beforeAll(async () => {
  herald = await startHerald({ env: { MAX_COMMANDS_PER_SECOND: '10000' } });
});

afterAll(async () => {
  await herald?.stop();
});

/** A merchant id no other test of this file uses. */
function freshMerchant(): string {
  return `m_cmd_${process.pid}_${++merchantCounter}`;
}

async function open(channels: string[] = ['*']): Promise<TestClient> {
  return TestClient.open(herald.wsUrl, { token: clientToken({ channels }), protocols: 'v1.json' });
}

async function publishOk(event: Record<string, unknown>): Promise<void> {
  const answer = await publish(herald.url, event);
  expect(answer.status).toBe(202);
}

describe('subscribe', () => {
  it('answers subscribed {channel, recovered:false, missed:0} with replyTo', async () => {
    const client = await open();
    const channel = `merchant:${freshMerchant()}`;
    client.send({ type: 'subscribe', id: 'sub-1', data: { channel } });
    const reply = await client.next((frame) => frame.replyTo === 'sub-1');
    expect(reply).toEqual({ type: 'subscribed', replyTo: 'sub-1', timestamp: expect.stringMatching(ISO_MS), data: { channel, recovered: false, missed: 0 } });
    await client.close();
  });

  it('answers without replyTo when the command has no id', async () => {
    const client = await open();
    const channel = `merchant:${freshMerchant()}`;
    client.send({ type: 'subscribe', data: { channel } });
    const reply = await client.next((frame) => frame.type === 'subscribed');
    expect(reply.replyTo).toBeUndefined();
    expect(reply.data).toEqual({ channel, recovered: false, missed: 0 });
    await client.close();
  });

  it('delivers the events of the channel after subscribed, and only those', async () => {
    const merchant = freshMerchant();
    const other = freshMerchant();
    const client = await open();
    await client.subscribe(`merchant:${merchant}`);
    const event = paymentCreated(merchant);
    await publishOk(paymentCreated(other));
    await publishOk(event);
    const [received] = await client.waitForEvents(1);
    expect(received!.id).toBe(event.id);
    await client.sync();
    expect(client.events()).toHaveLength(1);
    await client.close();
  });

  it('subscribing twice to the same channel answers subscribed and does not duplicate events', async () => {
    const merchant = freshMerchant();
    const client = await open();
    await client.subscribe(`merchant:${merchant}`);
    const again = await client.subscribe(`merchant:${merchant}`);
    expect(again.type).toBe('subscribed');
    expect(again.data.channel).toBe(`merchant:${merchant}`);
    await publishOk(paymentCreated(merchant));
    await client.waitForEvents(1);
    await client.sync();
    expect(client.events()).toHaveLength(1);
    await client.close();
  });
});

describe('unsubscribe', () => {
  it('answers unsubscribed {channel} with replyTo, and stops the events of the channel', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const client = await open();
    await client.subscribe(channel);
    await publishOk(paymentCreated(merchant));
    await client.waitForEvents(1, channel);

    client.send({ type: 'unsubscribe', id: 'unsub-1', data: { channel } });
    const reply = await client.next((frame) => frame.replyTo === 'unsub-1');
    expect(reply).toEqual({ type: 'unsubscribed', replyTo: 'unsub-1', timestamp: expect.stringMatching(ISO_MS), data: { channel } });

    await publishOk(paymentCreated(merchant));
    await client.sync();
    expect(client.events(channel)).toHaveLength(1);
    await client.close();
  });

  it('keeps the other subscriptions of the connection', async () => {
    const a = freshMerchant();
    const b = freshMerchant();
    const client = await open();
    await client.subscribe(`merchant:${a}`);
    await client.subscribe(`merchant:${b}`);
    expect((await client.request('unsubscribe', { channel: `merchant:${a}` })).type).toBe('unsubscribed');
    await publishOk(paymentCreated(a));
    const kept = paymentCreated(b);
    await publishOk(kept);
    const [event] = await client.waitForEvents(1);
    expect(event!.id).toBe(kept.id);
    await client.sync();
    expect(client.events().map((e) => e.channel)).toEqual([`merchant:${b}`]);
    await client.close();
  });

  it('may subscribe again after unsubscribing', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const client = await open();
    await client.subscribe(channel);
    await client.request('unsubscribe', { channel });
    expect((await client.subscribe(channel)).data).toEqual({ channel, recovered: false, missed: 0 });
    await publishOk(paymentCreated(merchant));
    await client.waitForEvents(1, channel);
    await client.close();
  });
});

describe('ping', () => {
  it('answers pong with replyTo and a timestamp', async () => {
    const client = await open();
    client.send({ type: 'ping', id: 'p-1' });
    const pong = await client.next((frame) => frame.replyTo === 'p-1');
    expect(pong).toEqual({ type: 'pong', replyTo: 'p-1', timestamp: expect.stringMatching(ISO_MS) });
    await client.close();
  });

  it('answers pong without replyTo when the ping has no id', async () => {
    const client = await open();
    client.send({ type: 'ping' });
    const pong = await client.next((frame) => frame.type === 'pong');
    expect(pong.replyTo).toBeUndefined();
    expect(pong.timestamp).toMatch(ISO_MS);
    await client.close();
  });
});

describe('command ids', () => {
  it('carries an id of 64 characters back as replyTo', async () => {
    const client = await open();
    const id = 'x'.repeat(64);
    client.send({ type: 'ping', id });
    expect((await client.next((frame) => frame.replyTo === id)).type).toBe('pong');
    await client.close();
  });

  it('answers invalid-message to an id longer than 64 characters, and stays open', async () => {
    const client = await open();
    client.send({ type: 'ping', id: 'x'.repeat(65) });
    const error = await client.next((frame) => frame.type === 'error');
    expect(error.error.type).toBe('/problems/invalid-message');
    expect(error.error.message).toEqual(expect.any(String));
    expect((await client.request('ping')).type).toBe('pong');
    expect(client.frames.filter((frame) => frame.type === 'pong')).toHaveLength(1);
    await client.close();
  });

  it('answers invalid-message to an id that is not a string', async () => {
    const client = await open();
    client.send({ type: 'ping', id: 42 });
    expect((await client.next((frame) => frame.type === 'error')).error.type).toBe('/problems/invalid-message');
    await client.close();
  });

  it('replies to each command in turn, each with its own replyTo', async () => {
    const client = await open();
    const channel = `merchant:${freshMerchant()}`;
    client.send({ type: 'subscribe', id: 'a', data: { channel } });
    client.send({ type: 'ping', id: 'b' });
    client.send({ type: 'unsubscribe', id: 'c', data: { channel } });
    const replies = await Promise.all(['a', 'b', 'c'].map((id) => client.next((frame) => frame.replyTo === id)));
    expect(replies.map((frame) => frame.type)).toEqual(['subscribed', 'pong', 'unsubscribed']);
    await client.close();
  });
});

describe('unknown type', () => {
  it('answers /problems/unknown-type with replyTo, and the connection stays open', async () => {
    const client = await open();
    client.send({ type: 'publish', id: 'u-1', data: { channel: 'merchant:m_1' } });
    const error = await client.next((frame) => frame.replyTo === 'u-1');
    expect(error).toEqual({ type: 'error', replyTo: 'u-1', error: { type: '/problems/unknown-type', message: expect.any(String) }, timestamp: expect.stringMatching(ISO_MS) });
    // Many unknown types in a row are not "invalid messages": still open.
    for (let i = 0; i < 12; i++) client.send({ type: `nope-${i}` });
    expect((await client.request('ping')).type).toBe('pong');
    expect(client.errors('/problems/unknown-type')).toHaveLength(13);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    await client.close();
  });
});

function expectEventShape(frame: Frame, channel: string): void {
  expect(Object.keys(frame).sort()).toEqual(['channel', 'data', 'id', 'seq', 'timestamp', 'type']);
  expect(frame.channel).toBe(channel);
  expect(frame.seq).toEqual(expect.any(String));
  expect(frame.seq.length).toBeGreaterThan(0);
  expect(frame.timestamp).toMatch(ISO_MS);
  expect(frame.id).toEqual(expect.any(String));
}

describe('events', () => {
  it('every event frame has exactly type, id, timestamp, channel, seq and data, as published', async () => {
    const merchant = freshMerchant();
    const client = await open();
    const channels = [`merchant:${merchant}`];
    const event = paymentCreated(merchant, { timestamp: '2026-11-21T10:00:00Z' });
    const data = event.data as Record<string, unknown>;
    channels.push(`payment:${data.payment_id as string}`, `order:${data.order_id as string}`);
    for (const channel of channels) await client.subscribe(channel);
    const noTimestamp = paymentCreated(merchant);
    await publishOk(event);
    await publishOk(noTimestamp);
    await client.waitForEvents(2, channels[0]);
    await client.waitForEvents(1, channels[1]);
    await client.waitForEvents(1, channels[2]);

    for (const channel of channels) {
      const frame = client.events(channel)[0]!;
      expectEventShape(frame, channel);
      // The producer's id and data as they were, the same on every channel.
      expect(frame.type).toBe('payment.created');
      expect(frame.id).toBe(event.id);
      expect(frame.data).toEqual(event.data);
      // The producer's timestamp, normalised to UTC with milliseconds.
      expect(frame.timestamp).toBe('2026-11-21T10:00:00.000Z');
    }
    const defaulted = client.events(channels[0])[1]!;
    expectEventShape(defaulted, channels[0]!);
    expect(defaulted.id).toBe(noTimestamp.id);
    expect(Math.abs(Date.parse(defaulted.timestamp) - Date.now())).toBeLessThan(10_000);
    await client.close();
  });

  it('an event published without an id gets one, the same on every channel', async () => {
    const merchant = freshMerchant();
    const client = await open();
    const event = paymentCreated(merchant);
    delete event.id;
    const paymentChannel = `payment:${(event.data as Record<string, string>).payment_id}`;
    await client.subscribe(`merchant:${merchant}`);
    await client.subscribe(paymentChannel);
    const answer = await publish(herald.url, event);
    expect(answer.status).toBe(202);
    const [onMerchant] = await client.waitForEvents(1, `merchant:${merchant}`);
    const [onPayment] = await client.waitForEvents(1, paymentChannel);
    expect(onMerchant!.id).toEqual(expect.any(String));
    expect(onMerchant!.id).toBe(answer.body.id);
    expect(onPayment!.id).toBe(onMerchant!.id);
    await client.close();
  });

  it('events of one channel arrive in publish order, with strictly increasing seq and no duplicates', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const clients = await Promise.all([open(), open(), open()]);
    for (const client of clients) await client.subscribe(channel);
    const published: string[] = [];
    // Single events and batches, one after the other: a known total order.
    for (let round = 0; round < 5; round++) {
      const single = paymentCreated(merchant);
      await publishOk(single);
      published.push(single.id as string);
      const batch = Array.from({ length: 40 }, () => paymentCreated(merchant));
      const answer = await publishBatch(herald.url, batch);
      expect(answer.status).toBe(207);
      published.push(...batch.map((event) => event.id as string));
    }
    for (const client of clients) {
      const events = await client.waitForEvents(published.length, channel);
      await client.sync();
      expect(client.events(channel).map((event) => event.id)).toEqual(published);
      for (let i = 1; i < events.length; i++) expect(compareSeq(events[i]!.seq, events[i - 1]!.seq)).toBeGreaterThan(0);
      expect(new Set(events.map((event) => event.seq)).size).toBe(events.length);
    }
    // Every connection saw the same seq for the same event.
    const seqs = clients.map((client) => client.events(channel).map((event) => event.seq).join(','));
    expect(new Set(seqs).size).toBe(1);
    await Promise.all(clients.map((client) => client.close()));
  });

  it('concurrent publishers: each channel still arrives in seq order without duplicates', async () => {
    const merchants = [freshMerchant(), freshMerchant()];
    const client = await open();
    for (const merchant of merchants) await client.subscribe(`merchant:${merchant}`);
    const batches = Array.from({ length: 12 }, (_, i) => Array.from({ length: 25 }, () => paymentCreated(merchants[i % 2]!)));
    const answers = await Promise.all(batches.map((batch) => publishBatch(herald.url, batch)));
    for (const answer of answers) expect(answer.status).toBe(207);
    for (const merchant of merchants) {
      const channel = `merchant:${merchant}`;
      const events = await client.waitForEvents(150, channel);
      await client.sync();
      expect(client.events(channel)).toHaveLength(150);
      for (let i = 1; i < events.length; i++) expect(compareSeq(events[i]!.seq, events[i - 1]!.seq)).toBeGreaterThan(0);
      const expected = new Set(batches.filter((_, i) => i % 2 === merchants.indexOf(merchant)).flat().map((event) => event.id));
      expect(new Set(events.map((event) => event.id))).toEqual(expected);
    }
    await client.close();
  });

  it('an event published again with the same id is not delivered again', async () => {
    const merchant = freshMerchant();
    const client = await open();
    await client.subscribe(`merchant:${merchant}`);
    const event = paymentCreated(merchant);
    await publishOk(event);
    await publishOk(event);
    const marker = paymentCreated(merchant);
    await publishOk(marker);
    await client.waitForEvents(2);
    await client.sync();
    expect(client.events().map((frame) => frame.id)).toEqual([event.id, marker.id]);
    await client.close();
  });
});
