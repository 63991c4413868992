/**
 * The hub with JSON and protobuf sessions on one channel: each publication is framed at
 * most once per format (and compressed once per format), every session gets its own
 * format, recovery replays in it, and a channel without protobuf sessions never encodes
 * protobuf.
 */
import { inflateRawSync, constants } from 'node:zlib';
import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import type { Broker, Publication } from '@herald/broker';
import { decodeServerMessage } from '@herald/protocol/protobuf';
import type { Logger } from '@herald/runtime';
import type { EdgeMetrics } from './edge-metrics.js';
import { JSON_FORMAT } from './format-json.js';
import { PROTOBUF_FORMAT } from './format-protobuf.js';
import { Hub } from './hub.js';
import type { Recipient } from './recipient.js';
import { Subscription } from './subscription.js';
import type { WireFormat } from './wire-format.js';

const channel = 'merchant:m_1';

function envelope(seq: string, pad = 0): Buffer {
  const data = { payment_id: `pay_${seq}`, order_id: 'order_1', merchant_id: 'm_1', amount: 1000, currency: 'EUR', status: 'pending', note: 'x'.repeat(pad) };
  return Buffer.from(JSON.stringify({ type: 'payment.created', id: `evt_${seq}`, timestamp: '2026-11-21T10:00:00.123Z', channel, seq, data }));
}

interface Received {
  opcode: number;
  compressed: boolean;
  frame: Buffer;
}

function recipient(name: string, format: WireFormat, deflate = false): Recipient & { name: string } {
  return { name, format, deflate, queue: { socket: undefined as never } };
}

function setup(history: Publication[] = [], compressionThreshold = Number.POSITIVE_INFINITY) {
  const sent = new Map<Recipient, Received[]>();
  const outbox = {
    enqueue(target: Recipient, frame: Buffer) {
      sent.set(target, [...(sent.get(target) ?? []), { opcode: frame[0]! & 0x0f, compressed: (frame[0]! & 0x40) !== 0, frame }]);
    },
  };
  const broker = {
    state: 'ready',
    subscribe: () => Promise.resolve(),
    unsubscribe: () => Promise.resolve(),
    position: () => Promise.resolve(undefined),
    history: () => Promise.resolve({ complete: true, publications: history }),
  } as unknown as Broker;
  const metrics = { publications: 0, deliveries: 0, observeLag() {}, gapFill() {} } as unknown as EdgeMetrics;
  const logger = { warn() {}, info() {}, debug() {}, error() {} } as unknown as Logger;
  const hub = new Hub(broker, outbox, metrics, logger, compressionThreshold);
  return { hub, sent };
}

async function live(hub: Hub, who: Recipient): Promise<void> {
  const subscription = new Subscription(channel);
  await hub.join(who, subscription);
  hub.sendRecovery(who, subscription);
}

/** The payload of an unmasked server frame (inflated when RSV1 is set). */
function payloadOf(received: Received): Buffer {
  const receiverCtor = (ws as unknown as { Receiver: new (options: object) => NodeJS.WritableStream & NodeJS.EventEmitter }).Receiver;
  let payload: Buffer | undefined;
  if (received.compressed) {
    // Parse the header by hand: the shared deflate has no context to set up in a Receiver.
    const length = received.frame[1]! & 0x7f;
    const offset = length === 126 ? 4 : length === 127 ? 10 : 2;
    return inflateRawSync(Buffer.concat([received.frame.subarray(offset), Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH });
  }
  const receiver = new receiverCtor({ isServer: false, binaryType: 'nodebuffer' });
  receiver.on('message', (data: Buffer) => (payload = data));
  receiver.write(received.frame);
  return payload!;
}

function seqOf(format: WireFormat, received: Received): string {
  const payload = payloadOf(received);
  if (format === PROTOBUF_FORMAT) return (decodeServerMessage(payload) as { seq: string }).seq;
  return (JSON.parse(payload.toString()) as { seq: string }).seq;
}

describe('hub: one channel, both formats', () => {
  it('frames each publication once per format and sends every session the same bytes of its format', async () => {
    const { hub, sent } = setup();
    const json = [recipient('j1', JSON_FORMAT), recipient('j2', JSON_FORMAT)];
    const protobuf = [recipient('p1', PROTOBUF_FORMAT), recipient('p2', PROTOBUF_FORMAT), recipient('p3', PROTOBUF_FORMAT)];
    for (const who of [...json, ...protobuf]) await live(hub, who);
    for (const seq of ['100-0', '101-0', '102-0']) hub.onPublication(channel, seq, envelope(seq));

    expect(hub.framesMade.live).toEqual({ json: 3, jsonDeflate: 0, protobuf: 3, protobufDeflate: 0 });
    for (const who of json) expect(sent.get(who)!.map((r) => r.opcode)).toEqual([1, 1, 1]);
    for (const who of protobuf) expect(sent.get(who)!.map((r) => r.opcode)).toEqual([2, 2, 2]);
    // Shared, not copied: the same Buffer object for every session of a format.
    expect(sent.get(json[0]!)![0]!.frame).toBe(sent.get(json[1]!)![0]!.frame);
    expect(sent.get(protobuf[0]!)![2]!.frame).toBe(sent.get(protobuf[2]!)![2]!.frame);
    expect(sent.get(protobuf[1]!)!.map((r) => seqOf(PROTOBUF_FORMAT, r))).toEqual(['100-0', '101-0', '102-0']);
    expect(sent.get(json[1]!)!.map((r) => seqOf(JSON_FORMAT, r))).toEqual(['100-0', '101-0', '102-0']);
  });

  it('never encodes protobuf for a channel without protobuf sessions, nor JSON for one without JSON sessions', async () => {
    const { hub } = setup();
    await live(hub, recipient('j', JSON_FORMAT));
    hub.onPublication(channel, '100-0', envelope('100-0'));
    expect(hub.framesMade.live).toEqual({ json: 1, jsonDeflate: 0, protobuf: 0, protobufDeflate: 0 });

    const other = setup();
    await live(other.hub, recipient('p', PROTOBUF_FORMAT));
    other.hub.onPublication(channel, '100-0', envelope('100-0'));
    expect(other.hub.framesMade.live).toEqual({ json: 0, jsonDeflate: 0, protobuf: 1, protobufDeflate: 0 });
  });

  it('compresses once per format for the sessions that negotiated deflate, over the threshold only', async () => {
    const { hub, sent } = setup([], 300);
    const who = [
      recipient('j', JSON_FORMAT),
      recipient('jd1', JSON_FORMAT, true),
      recipient('jd2', JSON_FORMAT, true),
      recipient('p', PROTOBUF_FORMAT),
      recipient('pd1', PROTOBUF_FORMAT, true),
      recipient('pd2', PROTOBUF_FORMAT, true),
    ];
    for (const r of who) await live(hub, r);
    hub.onPublication(channel, '100-0', envelope('100-0', 2_000)); // over the threshold in both formats
    hub.onPublication(channel, '101-0', envelope('101-0')); // under it in both (about 120 and 250 bytes)

    expect(hub.framesMade.live).toEqual({ json: 2, jsonDeflate: 1, protobuf: 2, protobufDeflate: 1 });
    const [j, jd1, jd2, p, pd1, pd2] = who.map((r) => sent.get(r)!);
    expect(jd1![0]).toMatchObject({ opcode: 1, compressed: true });
    expect(pd1![0]).toMatchObject({ opcode: 2, compressed: true });
    expect(jd1![0]!.frame).toBe(jd2![0]!.frame);
    expect(pd1![0]!.frame).toBe(pd2![0]!.frame);
    expect(j![0]).toMatchObject({ opcode: 1, compressed: false });
    expect(p![0]).toMatchObject({ opcode: 2, compressed: false });
    // Small events go plain, the same frame as for the sessions without deflate.
    expect(jd1![1]!.frame).toBe(j![1]!.frame);
    expect(pd1![1]!.frame).toBe(p![1]!.frame);
    // Compressed or not, each carries the same event.
    for (const [format, frames] of [[JSON_FORMAT, jd1], [PROTOBUF_FORMAT, pd1], [PROTOBUF_FORMAT, p]] as const) {
      expect(frames!.map((r) => seqOf(format, r))).toEqual(['100-0', '101-0']);
    }
  });

  it('replays history and then buffered events in the session format, without duplicates', async () => {
    const history = ['100-0', '101-0', '102-0'].map((seq) => ({ seq, envelope: envelope(seq) }));
    const { hub, sent } = setup(history);
    const witness = recipient('witness', JSON_FORMAT);
    await live(hub, witness);
    hub.onPublication(channel, '100-0', envelope('100-0'));

    const resumed = recipient('resumed', PROTOBUF_FORMAT);
    const subscription = new Subscription(channel);
    const recovery = await hub.join(resumed, subscription, '100-0');
    expect(recovery).toMatchObject({ complete: true, since: '100-0' });
    // Live while recovering: 101-0 is also in history (sent once), 103-0 only live.
    hub.onPublication(channel, '101-0', envelope('101-0'));
    hub.onPublication(channel, '102-0', envelope('102-0'));
    hub.onPublication(channel, '103-0', envelope('103-0'));
    hub.sendRecovery(resumed, subscription, recovery);
    hub.onPublication(channel, '104-0', envelope('104-0'));

    const frames = sent.get(resumed)!;
    expect(frames.every((r) => r.opcode === 2)).toBe(true);
    expect(frames.map((r) => seqOf(PROTOBUF_FORMAT, r))).toEqual(['101-0', '102-0', '103-0', '104-0']);
    expect(hub.framesMade.recovery).toMatchObject({ json: 0, protobuf: 2 });
    // A recovered frame is the same bytes as the live frame of the same event.
    const liveProtobuf = recipient('live-protobuf', PROTOBUF_FORMAT);
    await live(hub, liveProtobuf);
    hub.onPublication(channel, '105-0', envelope('105-0'));
    const other = setup([{ seq: '105-0', envelope: envelope('105-0') }]);
    const replayed = recipient('replayed', PROTOBUF_FORMAT);
    const sub = new Subscription(channel);
    other.hub.sendRecovery(replayed, sub, await other.hub.join(replayed, sub, '104-0'));
    expect(other.sent.get(replayed)![0]!.frame).toEqual(sent.get(liveProtobuf)![0]!.frame);
  });

  it('sends continuity-lost after a failed gap fill in each session format, built once per format', async () => {
    const broker = {
      state: 'ready',
      subscribe: () => Promise.resolve(),
      unsubscribe: () => Promise.resolve(),
      position: () => Promise.resolve('99-0'),
      history: () => Promise.resolve({ complete: false, publications: [], reason: 'trimmed' }),
    } as unknown as Broker;
    const sent = new Map<Recipient, Buffer[]>();
    const outbox = { enqueue: (target: Recipient, frame: Buffer) => sent.set(target, [...(sent.get(target) ?? []), frame]) };
    const metrics = { publications: 0, deliveries: 0, observeLag() {}, gapFill() {} } as unknown as EdgeMetrics;
    const logger = { warn() {}, info() {}, debug() {}, error() {} } as unknown as Logger;
    const hub = new Hub(broker, outbox, metrics, logger);
    const who = [recipient('j1', JSON_FORMAT), recipient('j2', JSON_FORMAT), recipient('p1', PROTOBUF_FORMAT), recipient('p2', PROTOBUF_FORMAT)];
    for (const r of who) await live(hub, r);
    hub.onPublication(channel, '100-0', envelope('100-0'));
    hub.onDisconnected();
    hub.onResubscribed();
    await new Promise((resolve) => setImmediate(resolve));
    const lost = who.map((r) => sent.get(r)!.at(-1)!);
    expect(lost[0]).toBe(lost[1]);
    expect(lost[2]).toBe(lost[3]);
    expect(JSON.parse(payloadOf({ opcode: 1, compressed: false, frame: lost[0]! }).toString())).toMatchObject({ type: 'error', channel, error: { type: '/problems/continuity-lost' } });
    expect(decodeServerMessage(payloadOf({ opcode: 2, compressed: false, frame: lost[2]! }))).toMatchObject({ type: 'error', channel, error: { type: '/problems/continuity-lost' } });
  });

  it('an event the protobuf encoder refuses reaches protobuf sessions as an internal error about the channel; JSON sessions get the event', async () => {
    const { hub, sent } = setup();
    const json = recipient('j', JSON_FORMAT);
    const protobuf = recipient('p', PROTOBUF_FORMAT);
    await live(hub, json);
    await live(hub, protobuf);
    // Not what the ingest lets through: `data` is not an object.
    const bad = Buffer.from(JSON.stringify({ type: 'x.y', id: 'evt_bad', timestamp: '2026-11-21T10:00:00.000Z', channel, seq: '100-0', data: 5 }));
    hub.onPublication(channel, '100-0', bad);
    expect(JSON.parse(payloadOf(sent.get(json)![0]!).toString())).toMatchObject({ id: 'evt_bad', seq: '100-0' });
    expect(decodeServerMessage(payloadOf(sent.get(protobuf)![0]!))).toMatchObject({ type: 'error', channel, error: { type: '/problems/internal' } });
    hub.onPublication(channel, '101-0', envelope('101-0'));
    expect(seqOf(PROTOBUF_FORMAT, sent.get(protobuf)![1]!)).toBe('101-0');
  });
});
