/**
 * The broker conformance suite: one set of tests that every engine must pass (memory,
 * one Redis, Redis Cluster). Each engine's test file calls `brokerConformance` with a
 * fixture that makes broker instances ("nodes") sharing one backend, with a key prefix
 * of their own so that tests never share state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareSeq, envelopeTemplate, type EventInput } from '@herald/protocol';
import type { Broker, BrokerListener, PublishRequest, RetentionOptions } from './broker.js';

export interface BrokerFixture {
  /** A new, not yet started broker on the backend under test. */
  create(retention?: Partial<RetentionOptions>): Promise<Broker>;
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
  }
  onResubscribed(): void {
    this.resubscribes += 1;
  }

  waitFor(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

let eventCounter = 0;
export function makeEvent(overrides: Partial<EventInput> = {}): EventInput {
  eventCounter += 1;
  return {
    type: 'payment.created',
    id: `evt_${process.pid}_${eventCounter}`,
    timestamp: new Date().toISOString(),
    data: JSON.stringify({ merchant_id: 'm_1', n: eventCounter }),
    ...overrides,
  };
}

export function request(channel: string, event: EventInput = makeEvent(), idempotencyKey?: string): PublishRequest {
  return { channel, template: envelopeTemplate(event, channel), idempotencyKey };
}

/** Polls `check` until it returns true; for conditions no event announces (expiry). */
async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function brokerConformance(engine: string, makeFixture: () => Promise<BrokerFixture>, options: ConformanceOptions = {}): void {
  const timeout = options.timeoutMs ?? 10_000;

  describe(`Broker conformance: ${engine}`, () => {
    let fixture: BrokerFixture;
    let channelCounter = 0;
    const channel = (name = 'ch') => `conf:${name}_${Date.now().toString(36)}_${(channelCounter += 1)}`;

    async function node(retention?: Partial<RetentionOptions>): Promise<{ broker: Broker; listener: RecordingListener }> {
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

    it('publishes the complete envelope with the seq it returns', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      const event = makeEvent();
      const result = await broker.publish(request(ch, event));
      expect(result.duplicate).toBe(false);
      expect(result.seq).toMatch(/^\d+-\d+$/);
      await listener.waitFor(1);
      const got = listener.received[0]!;
      expect(got.channel).toBe(ch);
      expect(got.seq).toBe(result.seq);
      expect(got.envelope).toBe(
        `{"type":"payment.created","id":"${event.id}","timestamp":"${event.timestamp}","channel":"${ch}","seq":"${result.seq}","data":${event.data}}`,
      );
      expect(JSON.parse(got.envelope)).toMatchObject({ channel: ch, seq: result.seq, id: event.id });
    });

    it('delivers across instances, only to instances subscribed to the channel', { timeout }, async () => {
      const publisher = await node();
      const a = await node();
      const b = await node();
      const chA = channel('a');
      const chB = channel('b');
      await a.broker.subscribe(chA);
      await b.broker.subscribe(chB);
      await publisher.broker.publish(request(chA));
      await publisher.broker.publish(request(chB));
      await publisher.broker.publish(request(chA));
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
      const requests = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? p1 : p2).broker.publish(request(ch)));
      const results = await Promise.all(requests);
      const seqs = results.map((r) => r.seq);
      expect(new Set(seqs).size).toBe(200);
      await sub.listener.waitFor(200);
      const delivered = sub.listener.received.map((r) => r.seq);
      for (let i = 1; i < delivered.length; i++) expect(compareSeq(delivered[i - 1]!, delivered[i]!)).toBeLessThan(0);
      expect([...delivered].sort(compareSeq)).toEqual([...seqs].sort(compareSeq));
    });

    it('stops delivering after unsubscribe', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      const marker = channel('marker');
      await broker.subscribe(ch);
      await broker.subscribe(marker);
      await broker.publish(request(ch));
      await listener.waitFor(1);
      await broker.unsubscribe(ch);
      await broker.publish(request(ch));
      await broker.publish(request(marker));
      await listener.waitFor(2);
      expect(listener.received.map((r) => r.channel)).toEqual([ch, marker]);
    });

    it('publishes a batch in order and returns one result per request', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      const results = await broker.publishBatch(Array.from({ length: 50 }, () => request(ch)));
      expect(results).toHaveLength(50);
      const seqs = results.map((r) => {
        if (r instanceof Error) throw r;
        return r.seq;
      });
      await listener.waitFor(50);
      expect(listener.received.map((r) => r.seq)).toEqual(seqs);
    });

    it('returns history after a seq, complete and in order', { timeout }, async () => {
      const { broker } = await node();
      const ch = channel();
      const seqs: string[] = [];
      for (let i = 0; i < 10; i++) seqs.push((await broker.publish(request(ch))).seq);
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
      const { broker } = await node();
      const ch = channel();
      expect(await broker.position(ch)).toBeUndefined();
      await broker.publish(request(ch));
      const { seq } = await broker.publish(request(ch));
      expect(await broker.position(ch)).toBe(seq);
    });

    it('reports an unknown channel as incomplete', { timeout }, async () => {
      const { broker } = await node();
      const result = await broker.history(channel('never'), '1-0');
      expect(result.complete).toBe(false);
    });

    it('reports a seq beyond the channel top as incomplete', { timeout }, async () => {
      const { broker } = await node();
      const ch = channel();
      const { seq } = await broker.publish(request(ch));
      const future = `${Number(seq.split('-')[0]) + 60_000}-0`;
      expect((await broker.history(ch, future)).complete).toBe(false);
    });

    it('caps history at historySize and reports a trimmed since as incomplete', { timeout }, async () => {
      const { broker } = await node({ historySize: 5 });
      const ch = channel();
      const seqs: string[] = [];
      for (let i = 0; i < 12; i++) seqs.push((await broker.publish(request(ch))).seq);
      // Oldest events are gone: recovery from them would hide a gap.
      expect((await broker.history(ch, seqs[0]!)).complete).toBe(false);
      // From a recent enough seq, history is complete.
      const recent = await broker.history(ch, seqs[8]!);
      expect(recent.complete).toBe(true);
      if (recent.complete) expect(recent.publications.map((p) => p.seq)).toEqual(seqs.slice(9));
    });

    it('dedupes by idempotency key per channel', { timeout }, async () => {
      const { broker, listener } = await node();
      const ch = channel();
      const other = channel('other');
      await broker.subscribe(ch);
      await broker.subscribe(other);
      const event = makeEvent();
      const first = await broker.publish(request(ch, event, event.id));
      const second = await broker.publish(request(ch, event, event.id));
      expect(first.duplicate).toBe(false);
      expect(second).toEqual({ seq: first.seq, duplicate: true });
      // The same key on another channel is a different publication.
      const elsewhere = await broker.publish(request(other, event, event.id));
      expect(elsewhere.duplicate).toBe(false);
      const marker = await broker.publish(request(ch));
      await listener.waitFor(3);
      expect(listener.received.map((r) => r.seq)).toEqual([first.seq, elsewhere.seq, marker.seq]);
    });

    it('expires history after historyTtl but remembers the top', { timeout }, async () => {
      const ttl = 600;
      const { broker } = await node({ historyTtlMs: ttl });
      const ch = channel();
      const first = await broker.publish(request(ch));
      const last = await broker.publish(request(ch));
      // Before expiry, the older seq is recoverable.
      expect((await broker.history(ch, first.seq)).complete).toBe(true);
      // After expiry the events are gone: only a client already at the top is whole.
      await eventually(async () => !(await broker.history(ch, first.seq)).complete, ttl * 10);
      expect(await broker.history(ch, last.seq)).toEqual({ complete: true, publications: [] });
      // Publishing again continues from the remembered top, without a false gap.
      const next = await broker.publish(request(ch));
      expect(compareSeq(next.seq, last.seq)).toBeGreaterThan(0);
      const resumed = await broker.history(ch, last.seq);
      expect(resumed.complete).toBe(true);
      if (resumed.complete) expect(resumed.publications.map((p) => p.seq)).toEqual([next.seq]);
    });

    it('fails publish after stop instead of dropping silently', { timeout }, async () => {
      const { broker } = await node();
      await broker.stop();
      await expect(broker.publish(request(channel()))).rejects.toThrow();
    });
  });
}
