/**
 * The broker conformance suite: one set of tests that every engine must pass (memory,
 * one Redis, Redis Cluster), each checking a promise written on `Broker`
 * (src/broker.ts). Each engine's run (broker-memory.test.ts, broker-redis.test.ts,
 * broker-redis-cluster.test.ts beside this file) calls `brokerConformance` with a
 * fixture that makes broker instances ("nodes") sharing one backend, with a key prefix
 * of their own so that tests never share state. The helpers below are shared with the
 * Redis engines' other tests under test/.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareSeq, envelopeTemplate, type EventInput } from '@herald/protocol';
import { ORIGIN_SEQ, type Broker, type BrokerListener, type EventPublishRequest, type PublishRequest } from '../src/broker.js';
import type { RetentionSettings } from '../src/retention.js';

export interface BrokerFixture {
  /** A new, not yet started broker on the backend under test. */
  create(retention?: Partial<RetentionSettings>): Promise<Broker>;
  /** Stops what `create` made and removes its keys. */
  cleanup(): Promise<void>;
}
export interface ConformanceOptions {
  /** Per-test timeout; Redis Cluster needs more than memory. */
  timeoutMs?: number;
}

interface Received {
  channel: string;
  seq: string;
  envelope: string;
}

/** A listener that records publications and lets a test await a count. */
export class RecordingListener implements BrokerListener {
  readonly received: Received[] = [];
  disconnects = 0;
  resubscribes = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private eventWaiters: Array<{ ready: () => boolean; resolve: () => void }> = [];

  onPublication(channel: string, seq: string, envelope: Buffer): void {
    this.received.push({ channel, seq, envelope: envelope.toString('utf8') });
    this.waiters = this.waiters.filter((waiter) => {
      if (this.received.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
  onDisconnected(): void {
    this.disconnects += 1;
    this.wakeEventWaiters();
  }
  onResubscribed(): void {
    this.resubscribes += 1;
    this.wakeEventWaiters();
  }

  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Resolves once onDisconnected has been called `count` times in all. */
  waitForDisconnects(count: number): Promise<void> {
    return this.waitUntil(() => this.disconnects >= count);
  }

  /** Resolves once onResubscribed has been called `count` times in all. */
  waitForResubscribes(count: number): Promise<void> {
    return this.waitUntil(() => this.resubscribes >= count);
  }

  private waitUntil(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.eventWaiters.push({ ready, resolve }));
  }

  private wakeEventWaiters(): void {
    this.eventWaiters = this.eventWaiters.filter((waiter) => {
      if (!waiter.ready()) return true;
      waiter.resolve();
      return false;
    });
  }
}

let eventCounter = 0;
export function makeEvent(overrides: Partial<EventInput> = {}): EventInput {
  eventCounter += 1;
  return {
    type: 'payment.created',
    id: `evt_${process.pid}_${Date.now().toString(36)}_${eventCounter}`,
    timestamp: new Date().toISOString(),
    data: JSON.stringify({ merchant_id: 'm_1', n: eventCounter }),
    ...overrides,
  };
}

/** One channel of an event. */
export function request(channel: string, event: EventInput = makeEvent()): PublishRequest {
  return { channel, template: envelopeTemplate(event, channel) };
}

/** One event for all of `channels`, its id the event's. */
export function eventRequest(channels: readonly string[], event: EventInput = makeEvent()): EventPublishRequest {
  return { id: event.id!, requests: channels.map((channel) => request(channel, event)) };
}

/** The event id an envelope carries. */
export function idOf(envelope: Buffer | string): string {
  return (JSON.parse(envelope.toString()) as { id: string }).id;
}

/**
 * Publishes one event to one channel through `publishEvents` and returns the seq it got,
 * read back as the channel's position: only for a channel that nothing else publishes
 * to meanwhile. Throws the engine's Error for the event. Publishing the same event again
 * (a retry) is a duplicate, and the seq is still its own while nothing came after it.
 */
export async function publishOne(broker: Broker, channel: string, event: EventInput = makeEvent()): Promise<string> {
  const [result] = await broker.publishEvents([eventRequest([channel], event)]);
  if (result instanceof Error) throw result;
  const seq = await broker.position(channel);
  if (seq === undefined) throw new Error(`${channel} has no position right after a publication`);
  return seq;
}

/**
 * Publishes `count` new events to one channel in one `publishEvents` call and returns
 * their seqs in order, read from history after the channel's position before the call:
 * only for a channel that nothing else publishes to meanwhile, and at most historySize
 * events.
 */
export async function publishMany(broker: Broker, channel: string, count: number): Promise<string[]> {
  const before = (await broker.position(channel)) ?? ORIGIN_SEQ;
  const events = Array.from({ length: count }, () => eventRequest([channel]));
  for (const result of await broker.publishEvents(events)) {
    if (result instanceof Error) throw result;
    if (result.duplicate) throw new Error('a new event id was reported a duplicate');
  }
  const history = await broker.history(channel, before);
  if (!history.complete) throw new Error(`history of ${channel} after ${before} is incomplete (${history.reason})`);
  const ids = history.publications.map((publication) => idOf(publication.envelope));
  if (ids.join() !== events.map((event) => event.id).join()) throw new Error(`history of ${channel} is not the events just published, in order`);
  return history.publications.map((publication) => publication.seq);
}

/** Polls `check` until it returns true; for conditions no event announces (expiry). */
async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Seqs strictly increasing, as a channel's must be. */
function expectIncreasing(seqs: readonly string[]): void {
  for (let i = 1; i < seqs.length; i++) expect(compareSeq(seqs[i - 1]!, seqs[i]!)).toBeLessThan(0);
}

export function brokerConformance(engine: string, makeFixture: () => Promise<BrokerFixture>, options: ConformanceOptions = {}): void {
  const timeout = options.timeoutMs ?? 10_000;

  describe(`Broker conformance: ${engine}`, () => {
    let fixture: BrokerFixture;
    let channelCounter = 0;
    const channel = (name = 'ch') => `conf:${name}_${Date.now().toString(36)}_${(channelCounter += 1)}`;

    async function node(retention?: Partial<RetentionSettings>): Promise<{ broker: Broker; listener: RecordingListener }> {
      const broker = await fixture.create(retention);
      const listener = new RecordingListener();
      await broker.start(listener);
      return { broker, listener };
    }

    beforeEach(async () => {
      fixture = await makeFixture();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('is ready after start', { timeout }, async () => {
      const { broker } = await node();
      expect(broker.state).toBe('ready');
    });

    it('publishes the complete envelope with the seq that becomes the channel position', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      const event = makeEvent();
      expect(await broker.publishEvents([eventRequest([ch], event)])).toEqual([{ duplicate: false, channels: [ch] }]);
      await listener.waitFor(1);
      const got = listener.received[0]!;
      expect(got.channel).toBe(ch);
      expect(got.seq).toMatch(/^\d+-\d+$/);
      expect(await broker.position(ch)).toBe(got.seq);
      expect(got.envelope).toBe(
        `{"type":"payment.created","id":"${event.id}","timestamp":"${event.timestamp}","channel":"${ch}","seq":"${got.seq}","data":${event.data}}`,
      );
      expect(JSON.parse(got.envelope)).toMatchObject({ channel: ch, seq: got.seq, id: event.id });
    });

    it('delivers across instances, only to instances subscribed to the channel', { timeout }, async () => {
      const publisher = await node();
      const a = await node();
      const b = await node();
      const chA = channel('a');
      const chB = channel('b');
      await a.broker.subscribe(chA);
      await b.broker.subscribe(chB);
      await publishOne(publisher.broker, chA);
      await publishOne(publisher.broker, chB);
      await publishOne(publisher.broker, chA);
      await a.listener.waitFor(2);
      await b.listener.waitFor(1);
      // A marker publish on each channel proves nothing else was in flight.
      expect(a.listener.received.map((r) => r.channel)).toEqual([chA, chA]);
      expect(b.listener.received.map((r) => r.channel)).toEqual([chB]);
      expect(publisher.listener.received).toEqual([]);
    });

    it('keeps seq strictly increasing per channel across concurrent publishers', { timeout }, async () => {
      const p1 = await node();
      const p2 = await node();
      const sub = await node();
      const ch = channel();
      await sub.broker.subscribe(ch);
      const events = Array.from({ length: 200 }, () => eventRequest([ch]));
      const results = await Promise.all(events.map((event, i) => (i % 2 === 0 ? p1 : p2).broker.publishEvents([event])));
      for (const [result] of results) expect(result).toEqual({ duplicate: false, channels: [ch] });
      await sub.listener.waitFor(200);
      const delivered = sub.listener.received.map((r) => r.seq);
      expectIncreasing(delivered);
      // Every event exactly once, and history agrees with what was delivered live.
      const ids = sub.listener.received.map((r) => idOf(r.envelope));
      expect(new Set(ids).size).toBe(200);
      expect([...ids].sort()).toEqual(events.map((event) => event.id).sort());
      const history = await sub.broker.history(ch, ORIGIN_SEQ);
      expect(history.complete).toBe(true);
      if (history.complete) expect(history.publications.map((p) => p.seq)).toEqual(delivered);
    });

    it('stops delivering after unsubscribe', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      const marker = channel('marker');
      await broker.subscribe(ch);
      await broker.subscribe(marker);
      await publishOne(broker, ch);
      await listener.waitFor(1);
      await broker.unsubscribe(ch);
      await publishOne(broker, ch);
      await publishOne(broker, marker);
      await listener.waitFor(2);
      expect(listener.received.map((r) => r.channel)).toEqual([ch, marker]);
    });

    it('publishes the events of one call in order and returns one result per event', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      const events = Array.from({ length: 50 }, () => eventRequest([ch]));
      const results = await broker.publishEvents(events);
      expect(results).toEqual(events.map(() => ({ duplicate: false, channels: [ch] })));
      await listener.waitFor(50);
      expect(listener.received.map((r) => idOf(r.envelope))).toEqual(events.map((event) => event.id));
      expectIncreasing(listener.received.map((r) => r.seq));
    });

    it('publishes a large call over many channels: per-channel order, complete history, envelopes with their own seq', { timeout }, async () => {
      // More publications than one engine call carries, interleaved over channels
      // (several slots in a cluster).
      const { broker } = await node();
      const channels = Array.from({ length: 7 }, () => channel());
      const events = Array.from({ length: 250 }, (_, i) => eventRequest([channels[i % channels.length]!]));
      const results = await broker.publishEvents(events);
      expect(results).toHaveLength(250);
      for (const result of results) expect(result).toMatchObject({ duplicate: false });
      for (const [c, ch] of channels.entries()) {
        const mine = events.filter((_, i) => i % channels.length === c).map((event) => event.id);
        // A fresh channel's history is complete from the origin on.
        const history = await broker.history(ch, ORIGIN_SEQ);
        expect(history.complete).toBe(true);
        if (!history.complete) return;
        expect(history.publications.map((p) => idOf(p.envelope))).toEqual(mine);
        const seqs = history.publications.map((p) => p.seq);
        expectIncreasing(seqs);
        const envelopes = history.publications.map((p) => JSON.parse(p.envelope.toString('utf8')) as { channel: string; seq: string });
        expect(envelopes.every((e, i) => e.channel === ch && e.seq === seqs[i])).toBe(true);
        expect(await broker.position(ch)).toBe(seqs.at(-1));
      }
    });

    it('publishes an event to all its channels once per id, and names the first channels on a repeat', { timeout }, async () => {
      const { broker, listener } = await node();
      const [a, b, c] = [channel('a'), channel('b'), channel('c')];
      for (const ch of [a, b, c]) await broker.subscribe(ch);
      const event = makeEvent();
      const [first] = await broker.publishEvents([eventRequest([a, b], event)]);
      expect(first).toEqual({ duplicate: false, channels: [a, b] });
      await listener.waitFor(2);
      // A repeat publishes nothing, even to a channel the first attempt did not have.
      const [again] = await broker.publishEvents([eventRequest([a, c], event)]);
      expect(again).toEqual({ duplicate: true, channels: [a, b] });
      const marker = await publishOne(broker, a);
      await listener.waitFor(3);
      // Channels of different cluster slots arrive on different connections: compare per channel.
      expect(listener.received.filter((r) => r.channel === a).map((r) => r.seq)[1]).toBe(marker);
      expect(listener.received.map((r) => r.channel).sort()).toEqual([a, a, b].sort());
      expect(await broker.position(c)).toBeUndefined();
      for (const ch of [a, b]) expect(idOf(listener.received.find((r) => r.channel === ch)!.envelope)).toBe(event.id);
    });

    it('publishes an id repeated inside one call once, and a duplicate does not move the position', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      const event = makeEvent();
      const other = eventRequest([ch]);
      const results = await broker.publishEvents([eventRequest([ch], event), other, eventRequest([ch], event)]);
      expect(results).toEqual([
        { duplicate: false, channels: [ch] },
        { duplicate: false, channels: [ch] },
        { duplicate: true, channels: [ch] },
      ]);
      await listener.waitFor(2);
      expect(listener.received.map((r) => idOf(r.envelope))).toEqual([event.id, other.id]);
      const top = listener.received[1]!.seq;
      expect(await broker.position(ch)).toBe(top);
      // Again in a later call: still a duplicate, still nothing published.
      expect(await broker.publishEvents([eventRequest([ch], event)])).toEqual([{ duplicate: true, channels: [ch] }]);
      expect(await broker.position(ch)).toBe(top);
      const marker = await publishOne(broker, ch);
      await listener.waitFor(3);
      expect(listener.received.map((r) => r.seq)).toEqual([listener.received[0]!.seq, top, marker]);
    });

    it('publishes an event id once per channel: a repeat is one entry, one event reaches each of two channels once', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      const other = channel('other');
      await broker.subscribe(ch);
      await broker.subscribe(other);
      const event = makeEvent();
      expect(await broker.publishEvents([eventRequest([ch], event)])).toEqual([{ duplicate: false, channels: [ch] }]);
      const first = await broker.position(ch);
      expect(await broker.publishEvents([eventRequest([ch], event)])).toEqual([{ duplicate: true, channels: [ch] }]);
      expect(await broker.position(ch)).toBe(first);
      // The same id on two channels in one event: one entry in each.
      const both = makeEvent();
      expect(await broker.publishEvents([eventRequest([ch, other], both)])).toEqual([{ duplicate: false, channels: [ch, other] }]);
      const marker = makeEvent();
      await publishOne(broker, ch, marker);
      await listener.waitFor(4);
      // Compared per channel: the contract orders a channel's events, not events of
      // different channels (a cluster delivers each shard on its own connection).
      const idsOf = (name: string) => listener.received.filter((r) => r.channel === name).map((r) => idOf(r.envelope));
      expect(idsOf(ch)).toEqual([event.id, both.id, marker.id]);
      expect(idsOf(other)).toEqual([both.id]);
      const history = await broker.history(ch, ORIGIN_SEQ);
      expect(history.complete).toBe(true);
      if (history.complete) expect(history.publications.map((p) => idOf(p.envelope))).toEqual([event.id, both.id, marker.id]);
    });

    it('publishes many events over many channels in per-channel order', { timeout }, async () => {
      // More publications than one engine call carries, each event on two channels.
      const { broker, listener } = await node();
      const channels = Array.from({ length: 5 }, () => channel());
      for (const ch of channels) await broker.subscribe(ch);
      const events = Array.from({ length: 120 }, (_, i) => eventRequest([channels[i % 5]!, channels[(i + 1) % 5]!]));
      const results = await broker.publishEvents(events);
      for (const result of results) expect(result).toMatchObject({ duplicate: false });
      await listener.waitFor(240);
      for (const ch of channels) {
        const ids = listener.received.filter((r) => r.channel === ch).map((r) => idOf(r.envelope));
        expect(ids).toEqual(events.filter((e) => e.requests.some((q) => q.channel === ch)).map((e) => e.id));
        expectIncreasing(listener.received.filter((r) => r.channel === ch).map((r) => r.seq));
      }
    });

    it('publishes an id again once eventTtlMs has passed', { timeout }, async () => {
      const ttl = 400;
      const { broker } = await node({ idempotencyTtlMs: ttl });
      const ch = channel();
      const event = makeEvent();
      expect((await broker.publishEvents([eventRequest([ch], event)]))[0]).toEqual({ duplicate: false, channels: [ch] });
      expect((await broker.publishEvents([eventRequest([ch], event)]))[0]).toEqual({ duplicate: true, channels: [ch] });
      await eventually(async () => {
        const [result] = await broker.publishEvents([eventRequest([ch], event)]);
        return result !== undefined && !(result instanceof Error) && !result.duplicate;
      }, ttl * 10);
    });

    it('returns history after a seq, complete and in order', { timeout }, async () => {
      const { broker } = await node();
      const ch = channel();
      const seqs: string[] = [];
      for (let i = 0; i < 10; i++) seqs.push(await publishOne(broker, ch));
      const result = await broker.history(ch, seqs[3]!);
      expect(result.complete).toBe(true);
      if (!result.complete) return;
      expect(result.publications.map((p) => p.seq)).toEqual(seqs.slice(4));
      const envelope = JSON.parse(result.publications[0]!.envelope.toString('utf8'));
      expect(envelope).toMatchObject({ channel: ch, seq: seqs[4] });
      const atTop = await broker.history(ch, seqs[9]!);
      expect(atTop).toEqual({ complete: true, publications: [] });
    });

    it('reports the position (top seq) of a channel, undefined when unknown', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      expect(await broker.position(ch)).toBeUndefined();
      await broker.publishEvents([eventRequest([ch]), eventRequest([ch])]);
      await listener.waitFor(2);
      expect(await broker.position(ch)).toBe(listener.received[1]!.seq);
    });

    it('reports an unknown channel as incomplete', { timeout }, async () => {
      const { broker } = await node();
      const result = await broker.history(channel('never'), '1-0');
      expect(result.complete).toBe(false);
    });

    it('reports a seq beyond the channel top as incomplete', { timeout }, async () => {
      const { broker } = await node();
      const ch = channel();
      const seq = await publishOne(broker, ch);
      const future = `${Number(seq.split('-')[0]) + 60_000}-0`;
      expect((await broker.history(ch, future)).complete).toBe(false);
    });

    it('caps history at historySize and reports a trimmed since as incomplete', { timeout }, async () => {
      const { broker } = await node({ historySize: 5 });
      const ch = channel();
      const seqs: string[] = [];
      for (let i = 0; i < 12; i++) seqs.push(await publishOne(broker, ch));
      // Oldest events are gone: recovery from them would hide a gap.
      expect((await broker.history(ch, seqs[0]!)).complete).toBe(false);
      // From a recent enough seq, history is complete.
      const recent = await broker.history(ch, seqs[8]!);
      expect(recent.complete).toBe(true);
      if (recent.complete) expect(recent.publications.map((p) => p.seq)).toEqual(seqs.slice(9));
    });

    it('expires history after historyTtl but remembers the top', { timeout }, async () => {
      const ttl = 600;
      const { broker } = await node({ historyTtlMs: ttl });
      const ch = channel();
      const first = await publishOne(broker, ch);
      const last = await publishOne(broker, ch);
      // Before expiry, the older seq is recoverable.
      expect((await broker.history(ch, first)).complete).toBe(true);
      // After expiry the events are gone: only a client already at the top is whole.
      await eventually(async () => !(await broker.history(ch, first)).complete, ttl * 10);
      expect(await broker.history(ch, last)).toEqual({ complete: true, publications: [] });
      // Publishing again continues from the remembered top, without a false gap.
      const next = await publishOne(broker, ch);
      expect(compareSeq(next, last)).toBeGreaterThan(0);
      const resumed = await broker.history(ch, last);
      expect(resumed.complete).toBe(true);
      if (resumed.complete) expect(resumed.publications.map((p) => p.seq)).toEqual([next]);
    });

    it('fails publishEvents after stop instead of dropping silently', { timeout }, async () => {
      const { broker } = await node();
      await broker.stop();
      await expect(broker.publishEvents([eventRequest([channel()])])).rejects.toMatchObject({ name: 'BrokerUnavailableError' });
    });

    it('rejects every operation after stop', { timeout }, async () => {
      const { broker } = await node();
      const ch = channel();
      await publishOne(broker, ch);
      await broker.stop();
      expect(broker.state).toBe('closed');
      await expect(broker.publishEvents([eventRequest([ch]), eventRequest([ch])])).rejects.toMatchObject({ name: 'BrokerUnavailableError' });
      await expect(broker.subscribe(ch)).rejects.toMatchObject({ name: 'BrokerUnavailableError' });
      await expect(broker.history(ch, '1-0')).rejects.toMatchObject({ name: 'BrokerUnavailableError' });
      await expect(broker.position(ch)).rejects.toMatchObject({ name: 'BrokerUnavailableError' });
    });

    it('fans a publication out to every instance subscribed to the channel', { timeout }, async () => {
      const publisher = await node();
      const a = await node();
      const b = await node();
      const ch = channel();
      await Promise.all([a.broker.subscribe(ch), b.broker.subscribe(ch)]);
      const seqs: string[] = [];
      for (let i = 0; i < 5; i++) seqs.push(await publishOne(publisher.broker, ch));
      await Promise.all([a.listener.waitFor(5), b.listener.waitFor(5)]);
      expect(a.listener.received.map((r) => r.seq)).toEqual(seqs);
      expect(b.listener.received.map((r) => r.seq)).toEqual(seqs);
      expect(a.listener.received.map((r) => r.envelope)).toEqual(b.listener.received.map((r) => r.envelope));
    });

    it('keeps the last of subscribe and unsubscribe calls made in the same tick', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel('kept');
      const gone = channel('gone');
      const marker = channel('marker');
      await broker.subscribe(marker);
      // Not awaited one by one: an engine may batch them, but must keep their order.
      await Promise.all([
        broker.subscribe(ch),
        broker.unsubscribe(ch),
        broker.subscribe(ch),
        broker.subscribe(gone),
        broker.unsubscribe(gone),
      ]);
      await publishOne(broker, ch);
      await listener.waitFor(1);
      await publishOne(broker, gone);
      await publishOne(broker, marker);
      await listener.waitFor(2);
      expect(listener.received.map((r) => r.channel)).toEqual([ch, marker]);
    });

    it('serves from history the same envelope bytes it delivered live', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      // Non-ASCII data must survive both paths byte for byte.
      const event = makeEvent({ data: JSON.stringify({ merchant_id: 'm_1', note: 'café ✓ 日本' }) });
      const before = await publishOne(broker, ch);
      const seq = await publishOne(broker, ch, event);
      await listener.waitFor(2);
      const result = await broker.history(ch, before);
      expect(result.complete).toBe(true);
      if (!result.complete) return;
      expect(result.publications.map((p) => p.seq)).toEqual([seq]);
      expect(result.publications[0]!.envelope.toString('utf8')).toBe(listener.received[1]!.envelope);
      expect(JSON.parse(listener.received[1]!.envelope).data.note).toBe('café ✓ 日本');
    });

    it('says why history is incomplete', { timeout }, async () => {
      const ttl = 600;
      const { broker } = await node({ historySize: 3, historyTtlMs: ttl });
      const ch = channel();
      expect(await broker.history(ch, '1-0')).toEqual({ complete: false, reason: 'unknown-channel' });
      const seqs: string[] = [];
      for (let i = 0; i < 5; i++) seqs.push(await publishOne(broker, ch));
      const future = `${Number(seqs[4]!.split('-')[0]) + 60_000}-0`;
      expect(await broker.history(ch, future)).toEqual({ complete: false, reason: 'future-seq' });
      expect(await broker.history(ch, seqs[0]!)).toEqual({ complete: false, reason: 'trimmed' });
      // seqs[1] was the last event dropped: history is complete after it.
      const fromFloor = await broker.history(ch, seqs[1]!);
      expect(fromFloor.complete).toBe(true);
      if (fromFloor.complete) expect(fromFloor.publications.map((p) => p.seq)).toEqual(seqs.slice(2));
      await eventually(async () => (await broker.history(ch, seqs[3]!)).complete === false, ttl * 10);
      expect(await broker.history(ch, seqs[3]!)).toEqual({ complete: false, reason: 'expired' });
      expect(await broker.position(ch)).toBe(seqs[4]);
    });

    it('history from the origin (0-0) is the whole log while its first event is held, and incomplete once it is not', { timeout: Math.max(timeout, 15_000) }, async () => {
      const ttl = 1_000;
      const { broker } = await node({ historySize: 3, historyTtlMs: ttl });
      const ch = channel();
      expect(await broker.history(ch, ORIGIN_SEQ)).toEqual({ complete: false, reason: 'unknown-channel' });
      const seqs: string[] = [];
      for (let i = 0; i < 3; i++) seqs.push(await publishOne(broker, ch));
      const whole = await broker.history(ch, ORIGIN_SEQ);
      expect(whole.complete).toBe(true);
      if (whole.complete) expect(whole.publications.map((p) => p.seq)).toEqual(seqs);
      // A fourth event pushes the first out of the window: the log is no longer whole.
      seqs.push(await publishOne(broker, ch));
      expect((await broker.history(ch, ORIGIN_SEQ)).complete).toBe(false);

      // Aged out: the first event left by age, whatever the size.
      const aged = channel();
      const first = await publishOne(broker, aged);
      await eventually(async () => !(await broker.history(aged, ORIGIN_SEQ)).complete, ttl * 10);
      // The log restarts after expiry without its first event: never whole again.
      const later = await publishOne(broker, aged);
      expect(compareSeq(later, first)).toBeGreaterThan(0);
      expect((await broker.history(aged, ORIGIN_SEQ)).complete).toBe(false);
    });

    it('drops events older than historyTtl while the channel stays busy', { timeout: Math.max(timeout, 15_000) }, async () => {
      const ttl = 1_500;
      const { broker } = await node({ historyTtlMs: ttl });
      const ch = channel();
      const a = await publishOne(broker, ch);
      const b = await publishOne(broker, ch);
      // Time passing is the subject here: no event announces it.
      await new Promise((resolve) => setTimeout(resolve, ttl / 2));
      const c = await publishOne(broker, ch);
      // Once a and b are older than the ttl (c is not yet), b is the floor.
      await eventually(async () => !(await broker.history(ch, a)).complete, ttl * 4);
      const fromB = await broker.history(ch, b);
      expect(fromB.complete).toBe(true);
      if (fromB.complete) expect(fromB.publications.map((p) => p.seq)).toEqual([c]);
      expect(await broker.history(ch, a)).toEqual({ complete: false, reason: 'trimmed' });
    });
  });
}
