/**
 * PROTOCOL.md sections 2.4 and 9: the `v1.protobuf` subprotocol against a real Herald.
 * The key behaviours of the JSON conformance tests, in binary frames: negotiation,
 * `connected`, replies with reply_to, errors, recovery, limits and close codes, bad
 * bytes of every kind (answered, never a crash), and one event seen alike by a JSON
 * and a protobuf subscriber. Frames are read with the codec's decodeServerMessage (the
 * JSON twin); test/protocol/protobuf-interop.test.ts decodes with code not written here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareSeq } from '@herald/protocol';
import { encodeClientCommand } from '@herald/protocol/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { httpGet, metricValue } from '../support/http.js';
import { paymentCreated, publish, publishBatch } from '../support/ingest.js';
import { ClientCommandField, WireType, lengthDelimited, tag, varint } from '../support/protobuf-wire.js';
import { clientFrame, rawConnect } from '../support/raw-ws.js';
import { clientToken, epochSeconds } from '../support/tokens.js';
import { TestClient, refusedHandshake, type ConnectOptions, type HandshakeFailure } from '../support/ws-client.js';

const HISTORY_SIZE = 20;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let herald: HeraldProcess;
let schemas: string;
let merchantCounter = 0;

beforeAll(async () => {
  // A registered type outside the payment messages travels as google.protobuf.Struct.
  schemas = mkdtempSync(join(tmpdir(), 'herald-protobuf-'));
  writeFileSync(
    join(schemas, 'payment.refunded.json'),
    JSON.stringify({ type: 'object', required: ['payment_id', 'merchant_id'], properties: { payment_id: { type: 'string' }, merchant_id: { type: 'string' } } }),
  );
  herald = await startHerald({
    env: {
      NODE_ID: 'edge-protobuf-1',
      HISTORY_SIZE: String(HISTORY_SIZE),
      MAX_COMMANDS_PER_SECOND: '10000',
      MAX_MESSAGE_SIZE: '1KiB',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
      EVENT_SCHEMAS_DIR: schemas,
      // A fast sweep, so that token expiry is noticed within ~100 ms.
      WEBSOCKET_PING_INTERVAL: '200ms',
      WEBSOCKET_READ_TIMEOUT: '5s',
    },
  });
});

afterAll(async () => {
  await herald?.stop();
  rmSync(schemas, { recursive: true, force: true });
});

function freshMerchant(): string {
  return `m_pb_${process.pid}_${++merchantCounter}`;
}

function open(claims: Record<string, unknown> = { channels: ['merchant:*'] }, options: ConnectOptions = {}): Promise<TestClient> {
  return TestClient.open(herald.wsUrl, { token: clientToken(claims), protocols: 'v1.protobuf', codec: 'protobuf', ...options });
}

function expectRefused(refused: HandshakeFailure, status: number, type: string): void {
  expect(refused.status).toBe(status);
  expect(refused.body).toMatchObject({ type, status });
}

async function publishSequentially(merchant: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const event = paymentCreated(merchant);
    expect((await publish(herald.url, event)).status).toBe(202);
    ids.push(event.id as string);
  }
  return ids;
}

/** Every frame the client received was binary and decoded. */
function expectAllBinary(client: TestClient): void {
  expect(client.raw.every((frame) => frame.binary)).toBe(true);
  expect(client.frames.filter((frame) => frame.undecodable !== undefined || frame.unknownBinary !== undefined)).toEqual([]);
}

describe('handshake: negotiation (section 2.4)', () => {
  it('accepts v1.protobuf, echoes it, and the first frame is a binary connected with the configured values', async () => {
    const client = await TestClient.connect(herald.wsUrl, { token: clientToken(), protocols: 'v1.protobuf', codec: 'protobuf' });
    expect(client.socket.protocol).toBe('v1.protobuf');
    const first = await client.next();
    expect(client.raw[0]!.binary).toBe(true);
    expect(Object.keys(first).sort()).toEqual(['data', 'id', 'timestamp', 'type']);
    expect(first).toMatchObject({ type: 'connected', data: { node: 'edge-protobuf-1', pingInterval: 200, readTimeout: 5_000 } });
    expect(first.id).toEqual(expect.any(String));
    expect(first.data.connectionId).toEqual(expect.any(String));
    expect(first.timestamp).toMatch(ISO_MS);
    expect(Math.abs(Date.parse(first.timestamp) - Date.now())).toBeLessThan(10_000);
    await client.close();
  });

  it('picks the first protocol of the client list that the server speaks', async () => {
    for (const [protocols, expected] of [
      [['v1.protobuf', 'v1.json'], 'v1.protobuf'],
      [['v1.json', 'v1.protobuf'], 'v1.json'],
      [['mqtt', 'v1.protobuf', 'v1.json'], 'v1.protobuf'],
      [['v2.protobuf', 'v1.json'], 'v1.json'],
    ] as const) {
      const client = await TestClient.connect(herald.wsUrl, { token: clientToken(), protocols: [...protocols], codec: 'protobuf' });
      expect(client.socket.protocol, protocols.join(',')).toBe(expected);
      const connected = await client.next();
      expect(connected.type).toBe('connected');
      expect(client.raw[0]!.binary).toBe(expected === 'v1.protobuf');
      await client.close();
    }
  });

  it('speaks JSON when no protocol is offered', async () => {
    const client = await TestClient.open(herald.wsUrl, { token: clientToken() });
    expect(client.socket.protocol).toBe('');
    expect(client.raw[0]!.binary).toBe(false);
    expect((await client.request('ping')).type).toBe('pong');
    await client.close();
  });

  it('refuses only unknown protocols with 400 unsupported-protocol (names are case-sensitive)', async () => {
    for (const protocols of [['v1.proto'], ['V1.PROTOBUF'], ['v2.protobuf', 'mqtt']]) {
      expectRefused(await refusedHandshake(herald.wsUrl, { token: clientToken(), protocols }), 400, '/problems/unsupported-protocol');
    }
  });

  it('keeps the strict header refusals: a repeated or malformed list is 400 invalid-request', async () => {
    for (const header of ['v1.protobuf, v1.protobuf', 'v1.protobuf,,v1.json', 'v1.protobuf v1.json']) {
      const raw = await rawConnect(herald.port, '/v1/ws', { Authorization: `Bearer ${clientToken()}`, 'Sec-WebSocket-Protocol': header });
      expect(raw.status, header).toBe(400);
      expect(raw.headers).toContain('application/problem+json');
      raw.destroy();
    }
  });

  it('answers the 101 with Sec-WebSocket-Protocol: v1.protobuf and sends binary frames only (raw socket)', async () => {
    const raw = await rawConnect(herald.port, '/v1/ws', { Authorization: `Bearer ${clientToken()}`, 'Sec-WebSocket-Protocol': 'mqtt, v1.protobuf' });
    expect(raw.status).toBe(101);
    expect(raw.headers).toMatch(/\r\nSec-WebSocket-Protocol: v1\.protobuf(\r\n|$)/i);
    const connected = await raw.nextFrame();
    expect(connected?.opcode).toBe(0x2);
    raw.write(clientFrame(0x2, Buffer.from(encodeClientCommand({ type: 'ping', id: 'raw-1' }))));
    const pong = await raw.nextFrame();
    expect(pong?.opcode).toBe(0x2);
    raw.write(clientFrame(0x8, Buffer.from([0x03, 0xe8])));
    expect(await raw.closeCode()).toBe(1000);
    raw.destroy();
  });
});

describe('commands and replies (section 3)', () => {
  it('subscribe, unsubscribe and ping answer with reply_to', async () => {
    const client = await open();
    const channel = `merchant:${freshMerchant()}`;
    const subscribed = await client.subscribe(channel);
    expect(subscribed).toMatchObject({ type: 'subscribed', data: { channel, recovered: false, missed: 0 } });
    expect(subscribed.replyTo).toMatch(/^c\d+$/);
    expect(subscribed.timestamp).toMatch(ISO_MS);
    const unsubscribed = await client.request('unsubscribe', { channel });
    expect(unsubscribed).toMatchObject({ type: 'unsubscribed', data: { channel } });
    expect(unsubscribed.data.reason).toBeUndefined();
    const pong = await client.request('ping');
    expect(Object.keys(pong).sort()).toEqual(['replyTo', 'timestamp', 'type']);
    // A command without an id gets a reply without reply_to.
    client.send({ type: 'ping' });
    const bare = await client.next((frame) => frame.type === 'pong' && frame.replyTo === undefined);
    expect(bare.timestamp).toMatch(ISO_MS);
    expectAllBinary(client);
    await client.close();
  });

  it('forbidden, invalid-channel and unknown-type are errors with reply_to; the connection stays open', async () => {
    const client = await open({ channels: ['merchant:m_mine'] });
    const forbidden = await client.subscribe('merchant:m_other');
    expect(forbidden).toMatchObject({ type: 'error', error: { type: '/problems/forbidden', message: 'Not allowed to subscribe to merchant:m_other' } });
    const invalid = await client.subscribe('merchant:bad channel');
    expect(invalid.error.type).toBe('/problems/invalid-channel');
    // Proto3 has no absent string: an empty channel is a channel name, and an invalid one (as "" in JSON).
    client.sendRaw(Buffer.concat([lengthDelimited(ClientCommandField.type, 'subscribe'), lengthDelimited(ClientCommandField.id, 'e1'), lengthDelimited(ClientCommandField.subscribe, Buffer.alloc(0))]), { binary: true });
    expect((await client.next((frame) => frame.replyTo === 'e1')).error.type).toBe('/problems/invalid-channel');
    const unknown = await client.request('publish');
    expect(unknown.error.type).toBe('/problems/unknown-type');
    // `refresh` with a token that is no JWT: unauthorized, as in JSON; the connection stays.
    client.send({ type: 'refresh', id: 'r1', data: { token: 'x' } });
    expect((await client.next((frame) => frame.replyTo === 'r1')).error.type).toBe('/problems/unauthorized');
    expect((await client.request('ping')).type).toBe('pong');
    expectAllBinary(client);
    await client.close();
  });

  it('too-many-subscriptions past MAX_SUBSCRIPTIONS_PER_CONNECTION', async () => {
    const client = await open({ channels: ['*'] });
    for (const channel of ['order:o_1', 'order:o_2', 'order:o_3']) expect((await client.subscribe(channel)).type).toBe('subscribed');
    expect((await client.subscribe('order:o_4')).error.type).toBe('/problems/too-many-subscriptions');
    await client.close();
  });
});

describe('events and recovery (section 3, "Recovery")', () => {
  it('a JSON and a protobuf subscriber of one channel see the same events, ids and seqs, with equal data', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const json = await TestClient.open(herald.wsUrl, { token: clientToken({ channels: [channel] }), protocols: 'v1.json' });
    const protobuf = await open({ channels: [channel] });
    await json.subscribe(channel);
    await protobuf.subscribe(channel);
    const events: Array<Record<string, unknown>> = [
      paymentCreated(merchant),
      // Values proto3 cannot carry in the typed fields travel in `extra`, unchanged.
      paymentCreated(merchant, { data: { payment_id: 'pay_x', order_id: 'order_x', merchant_id: merchant, amount: 0, currency: 'EUR', status: 'pending', metadata: { tags: ['a', 1, null, true], nested: { deep: 1.5 } } } }),
      { type: 'payment.updated', id: `evt_upd_${merchant}`, data: { payment_id: 'pay_x', merchant_id: merchant, status: 'captured', amount: 900 } },
      { type: 'payment.updated', id: `evt_upd2_${merchant}`, data: { payment_id: 'pay_x', merchant_id: merchant, status: 'refunded', reason: '' } },
      // Not a payment message: the whole `data` is a Struct.
      { type: 'payment.refunded', id: `evt_ref_${merchant}`, data: { payment_id: 'pay_x', merchant_id: merchant, refund: { amount: 100, partial: true, lines: [{ sku: 'a' }] } } },
    ];
    for (const event of events) expect((await publish(herald.url, event)).status).toBe(202);
    const [a, b] = await Promise.all([json.waitForEvents(events.length, channel), protobuf.waitForEvents(events.length, channel)]);
    expect(b.map((e) => [e.id, e.seq, e.type])).toEqual(a.map((e) => [e.id, e.seq, e.type]));
    expect(b).toEqual(a); // every field: type, id, timestamp, channel, seq, data
    expect(a.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expectAllBinary(protobuf);
    // The binary frames are smaller.
    const jsonBytes = json.raw.slice(-events.length).reduce((n, f) => n + f.bytes.length, 0);
    const protobufBytes = protobuf.raw.slice(-events.length).reduce((n, f) => n + f.bytes.length, 0);
    expect(protobufBytes).toBeLessThan(jsonBytes);
    await Promise.all([json.close(), protobuf.close()]);
  });

  it('recovers with since: subscribed recovered:true with missed, then the missed events in order, then live ones', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    await publishSequentially(merchant, 3);
    const seen = await first.waitForEvents(3, channel);
    await first.close();
    const missed = await publishSequentially(merchant, 4);

    const second = await open();
    second.send({ type: 'subscribe', id: 'resub', data: { channel, since: seen.at(-1)!.seq } });
    const reply = await second.next((frame) => frame.replyTo === 'resub');
    expect(reply).toMatchObject({ type: 'subscribed', data: { channel, recovered: true, missed: 4 } });
    const recovered = await second.waitForEvents(4, channel);
    expect(second.frames.indexOf(reply)).toBeLessThan(second.frames.indexOf(recovered[0]!));
    expect(recovered.map((event) => event.id)).toEqual(missed);
    const live = await publishSequentially(merchant, 2);
    await second.waitForEvents(6, channel);
    await second.sync();
    const all = second.events(channel);
    expect(all.map((event) => event.id)).toEqual([...missed, ...live]);
    for (let i = 1; i < all.length; i++) expect(compareSeq(all[i]!.seq, all[i - 1]!.seq)).toBeGreaterThan(0);
    expectAllBinary(second);
    await second.close();
  });

  it('a recovered event is byte for byte the frame a live subscriber got', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    await publishSequentially(merchant, 2);
    await first.waitForEvents(2, channel);
    const liveBytes = first.raw.at(-1)!.bytes;
    const [older] = first.events(channel);
    await first.close();
    const second = await open();
    await second.subscribe(channel, older!.seq);
    await second.waitForEvents(1, channel);
    expect(second.raw.at(-1)!.bytes.equals(liveBytes)).toBe(true);
    await second.close();
  });

  it('since older than the retained history: recovered:false, then continuity-lost carrying the channel, then live events', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const first = await open();
    await first.subscribe(channel);
    await publishSequentially(merchant, 1);
    const [old] = await first.waitForEvents(1, channel);
    await first.close();
    expect((await publishBatch(herald.url, Array.from({ length: HISTORY_SIZE + 5 }, () => paymentCreated(merchant)))).status).toBe(207);

    const second = await open();
    second.send({ type: 'subscribe', id: 'too-old', data: { channel, since: old!.seq } });
    expect(await second.next((frame) => frame.replyTo === 'too-old')).toMatchObject({ type: 'subscribed', data: { channel, recovered: false, missed: 0 } });
    const lost = await second.next((frame) => frame.type === 'error');
    expect(lost).toMatchObject({ channel, error: { type: '/problems/continuity-lost' } });
    expect(lost.replyTo).toBeUndefined();
    expect(lost.timestamp).toMatch(ISO_MS);
    await second.sync();
    expect(second.events(channel)).toHaveLength(0);
    const [liveId] = await publishSequentially(merchant, 1);
    expect((await second.waitForEvents(1, channel))[0]!.id).toBe(liveId);
    await second.close();
  });

  it('a since the channel never had: continuity-lost', async () => {
    const client = await open();
    const channel = `merchant:${freshMerchant()}`;
    expect((await client.subscribe(channel, `${Date.now() - 60_000}-0`)).data).toMatchObject({ recovered: false });
    expect(await client.next((frame) => frame.type === 'error')).toMatchObject({ channel, error: { type: '/problems/continuity-lost' } });
    await client.close();
  });
});

/** Bytes that are not a valid ClientCommand, each answered with invalid-message. */
const INVALID_BYTES: Array<[string, Buffer]> = [
  ['an empty frame (no type)', Buffer.alloc(0)],
  ['random bytes', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ['a truncated string', Buffer.concat([tag(ClientCommandField.type, WireType.LengthDelimited), varint(20), Buffer.from('ping')])],
  ['a 10 MB varint length prefix in a small frame', Buffer.concat([lengthDelimited(ClientCommandField.type, 'subscribe'), tag(ClientCommandField.subscribe, WireType.LengthDelimited), varint(10_000_000), Buffer.alloc(40, 0x41)])],
  ['an unknown field', Buffer.concat([lengthDelimited(ClientCommandField.type, 'ping'), tag(9, WireType.Varint), varint(1)])],
  ['an unknown field inside subscribe params', Buffer.concat([lengthDelimited(ClientCommandField.type, 'subscribe'), lengthDelimited(ClientCommandField.subscribe, Buffer.concat([lengthDelimited(1, 'merchant:m_1'), tag(7, WireType.Varint), varint(3)]))])],
  ['a wire type that does not match the field', Buffer.concat([tag(ClientCommandField.type, WireType.Varint), varint(5)])],
  ['a string that is not UTF-8', Buffer.concat([tag(ClientCommandField.type, WireType.LengthDelimited), varint(2), Buffer.from([0xc3, 0x28])])],
  ['a varint over 10 bytes', Buffer.concat([tag(ClientCommandField.id, WireType.Varint), Buffer.alloc(11, 0xff), Buffer.from([0x01])])],
  ['a group', Buffer.concat([tag(ClientCommandField.type, WireType.StartGroup), tag(ClientCommandField.type, WireType.EndGroup)])],
  ['a subscribe without params', lengthDelimited(ClientCommandField.type, 'subscribe')],
  ['a since that is not a seq', Buffer.from(encodeClientCommand({ type: 'subscribe', data: { channel: 'merchant:m_1', since: 'yesterday' } }))],
  ['an id over 64 characters', Buffer.from(encodeClientCommand({ type: 'ping', id: 'x'.repeat(65) }))],
];

describe('invalid-message (section 9: bytes that do not decode)', () => {
  for (const [name, bytes] of INVALID_BYTES) {
    it(`answers invalid-message to ${name}, and stays open`, async () => {
      const client = await open();
      client.sendRaw(bytes, { binary: true });
      const error = await client.next((frame) => frame.type === 'error');
      expect(error.error.type).toBe('/problems/invalid-message');
      expect(error.error.message).toEqual(expect.any(String));
      expect(error.timestamp).toMatch(ISO_MS);
      expect((await client.request('ping')).type).toBe('pong');
      expectAllBinary(client);
      await client.close();
    });
  }

  it('the wrong oneof for the type is invalid-message, with the id as reply_to', async () => {
    const client = await open();
    const cases: Array<[string, Buffer]> = [
      ['subscribe with unsubscribe params', Buffer.concat([lengthDelimited(ClientCommandField.type, 'subscribe'), lengthDelimited(ClientCommandField.id, 'w1'), lengthDelimited(ClientCommandField.unsubscribe, lengthDelimited(1, 'merchant:m_1'))])],
      ['ping with subscribe params', Buffer.concat([lengthDelimited(ClientCommandField.type, 'ping'), lengthDelimited(ClientCommandField.id, 'w2'), lengthDelimited(ClientCommandField.subscribe, lengthDelimited(1, 'merchant:m_1'))])],
      ['unsubscribe with refresh params', Buffer.concat([lengthDelimited(ClientCommandField.type, 'unsubscribe'), lengthDelimited(ClientCommandField.id, 'w3'), lengthDelimited(ClientCommandField.refresh, lengthDelimited(1, 'tok'))])],
    ];
    for (const [name, bytes] of cases) {
      client.sendRaw(bytes, { binary: true });
      const error = await client.next((frame) => frame.type === 'error');
      expect(error.error.type, name).toBe('/problems/invalid-message');
      expect(error.replyTo, name).toMatch(/^w\d$/);
    }
    await client.close();
  });

  it('closes with 1007 after 10 invalid messages in a row, having answered each', async () => {
    const client = await open();
    for (let i = 0; i < 10; i++) client.sendRaw(INVALID_BYTES[i % INVALID_BYTES.length]![1], { binary: true });
    expect((await client.closed).code).toBe(1007);
    expect(client.errors('/problems/invalid-message')).toHaveLength(10);
  });

  it('nine invalid messages in a row do not close; a valid command resets the streak', async () => {
    const client = await open();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 9; i++) client.sendRaw(Buffer.from([0xff]), { binary: true });
      expect((await client.request('ping')).type).toBe('pong');
    }
    expect(client.errors('/problems/invalid-message')).toHaveLength(18);
    for (let i = 0; i < 10; i++) client.sendRaw(Buffer.from([0xff]), { binary: true });
    expect((await client.closed).code).toBe(1007);
  });

  it('after all of that the node is alive and ready', async () => {
    expect(herald.child.exitCode).toBeNull();
    expect((await httpGet(`${herald.url}/healthz`)).status).toBe(200);
    expect((await httpGet(`${herald.url}/readyz`)).status).toBe(200);
  });
});

describe('close codes (section 3)', () => {
  it('1003 on a text frame', async () => {
    const client = await open();
    client.send(JSON.stringify({ type: 'ping', id: 'json-on-protobuf' }));
    expect((await client.closed).code).toBe(1003);
    expect(client.frames.filter((frame) => frame.replyTo === 'json-on-protobuf')).toEqual([]);
  });

  it('1009 on a frame over MAX_MESSAGE_SIZE; a frame of exactly MAX_MESSAGE_SIZE is read (and answered)', async () => {
    const client = await open();
    // A ping whose id field is followed by an unknown field padding the frame to the limit.
    const head = Buffer.concat([lengthDelimited(ClientCommandField.type, 'ping'), lengthDelimited(ClientCommandField.id, 'big')]);
    const pad = (total: number) => lengthDelimited(15, Buffer.alloc(total - head.length - 3, 0x61)); // tag + 2-byte length
    const exact = Buffer.concat([head, pad(1024)]);
    expect(exact.length).toBe(1024);
    client.sendRaw(exact, { binary: true });
    // The unknown field makes it invalid, which shows it was read whole rather than refused for its size.
    expect(await client.next((frame) => frame.type === 'error')).toMatchObject({ error: { type: '/problems/invalid-message', message: expect.stringContaining('no field 15') } });
    client.sendRaw(Buffer.concat([head, pad(1025)]), { binary: true });
    expect((await client.closed).code).toBe(1009);
  });

  it('the token expires while connected: an unauthorized error frame, then 1008', async () => {
    const exp = epochSeconds(2);
    const client = await open({ exp, channels: ['*'] });
    expect((await client.subscribe('merchant:m_exp')).type).toBe('subscribed');
    expect((await client.closed).code).toBe(1008);
    const error = client.errors('/problems/unauthorized');
    expect(error).toHaveLength(1);
    expect(client.frames.at(-1)).toBe(error[0]);
    expectAllBinary(client);
  });
});

describe('rate limits (section 3)', () => {
  let limited: HeraldProcess;
  beforeAll(async () => {
    limited = await startHerald({ env: { MAX_COMMANDS_PER_SECOND: '5' } });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  const openLimited = () => TestClient.open(limited.wsUrl, { token: clientToken(), protocols: 'v1.protobuf', codec: 'protobuf' });

  it('a burst gets rate-limited errors with reply_to; invalid bytes count against the limit too', async () => {
    const client = await openLimited();
    const replies = await Promise.all(Array.from({ length: 20 }, () => client.request('ping')));
    const pongs = replies.filter((frame) => frame.type === 'pong');
    const limitedReplies = replies.filter((frame) => frame.error?.type === '/problems/rate-limited');
    expect(pongs.length + limitedReplies.length).toBe(20);
    expect(pongs.length).toBeGreaterThanOrEqual(5);
    expect(pongs.length).toBeLessThanOrEqual(8);
    expect(limitedReplies.length).toBeGreaterThanOrEqual(12);
    client.sendRaw(Buffer.from([0xff]), { binary: true });
    expect((await client.next((frame) => frame.type === 'error' && frame.replyTo === undefined)).error.type).toBe('/problems/rate-limited');
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    await client.close();
  });

  it('sustained abuse closes with 1008', async () => {
    const client = await openLimited();
    const ping = encodeClientCommand({ type: 'ping' });
    const timer = setInterval(() => {
      if (client.socket.readyState !== client.socket.OPEN) return;
      for (let i = 0; i < 20; i++) client.socket.send(ping, { binary: true });
    }, 50);
    try {
      expect((await client.closed).code).toBe(1008);
    } finally {
      clearInterval(timer);
    }
    expect(client.errors('/problems/rate-limited').length).toBeGreaterThan(0);
  });
});

describe('admission refusal in the session format (section 2.5)', () => {
  it('over MAX_CONNECTIONS: one binary error frame reach-maximum-connections, then 1013', async () => {
    const full = await startHerald({ env: { MAX_CONNECTIONS: '1' } });
    try {
      const first = await TestClient.open(full.wsUrl, { token: clientToken(), protocols: 'v1.protobuf', codec: 'protobuf' });
      const refused = await TestClient.connect(full.wsUrl, { token: clientToken(), protocols: 'v1.protobuf', codec: 'protobuf' });
      expect((await refused.closed).code).toBe(1013);
      expect(refused.frames).toHaveLength(1);
      expect(refused.raw[0]!.binary).toBe(true);
      expect(Object.keys(refused.frames[0]!)).toEqual(['type', 'error', 'timestamp']);
      expect(refused.frames[0]).toMatchObject({ type: 'error', error: { type: '/problems/reach-maximum-connections', message: 'Maximum number of connections reached' } });
      await first.close();
    } finally {
      await full.stop();
    }
  });
});

describe('fan-out: encoded once per format, compressed once per format (section 9)', () => {
  let compressed: HeraldProcess;
  beforeAll(async () => {
    // Above a small payment event in either format (JSON about 300 bytes), below a large one.
    compressed = await startHerald({ env: { WEBSOCKET_COMPRESSION: 'true', WEBSOCKET_COMPRESSION_THRESHOLD: '400' } });
  });
  afterAll(async () => {
    await compressed?.stop();
  });

  const frames = (labels: Record<string, string>) => metricValue(compressed.url, 'herald_edge_event_frames_total', { path: 'live', ...labels });

  it('any mix of JSON and protobuf subscribers, with and without deflate: one frame per format and compression per event, same events everywhere', async () => {
    const merchant = freshMerchant();
    const channel = `merchant:${merchant}`;
    const token = clientToken({ channels: [channel] });
    const kinds: Array<[string, ConnectOptions]> = [
      ['json', { protocols: 'v1.json', ws: { perMessageDeflate: false } }],
      ['json', { protocols: 'v1.json', ws: { perMessageDeflate: false } }],
      ['json+deflate', { protocols: 'v1.json', ws: { perMessageDeflate: true } }],
      ['protobuf', { protocols: 'v1.protobuf', codec: 'protobuf', ws: { perMessageDeflate: false } }],
      ['protobuf', { protocols: 'v1.protobuf', codec: 'protobuf', ws: { perMessageDeflate: false } }],
      ['protobuf+deflate', { protocols: 'v1.protobuf', codec: 'protobuf', ws: { perMessageDeflate: true } }],
      ['protobuf+deflate', { protocols: 'v1.protobuf', codec: 'protobuf', ws: { perMessageDeflate: true } }],
    ];
    const clients = await Promise.all(kinds.map(([, options]) => TestClient.open(compressed.wsUrl, { token, ...options })));
    for (const client of clients) await client.subscribe(channel);
    expect(await metricValue(compressed.url, 'herald_edge_subprotocol_connections', { subprotocol: 'v1.protobuf' })).toBe(4);
    const before = {
      json: await frames({ format: 'json', compression: 'none' }),
      jsonDeflate: await frames({ format: 'json', compression: 'deflate' }),
      protobuf: await frames({ format: 'protobuf', compression: 'none' }),
      protobufDeflate: await frames({ format: 'protobuf', compression: 'deflate' }),
    };
    // Half large (compressed in both formats), half small (plain for everyone).
    const events = Array.from({ length: 6 }, (_, i) =>
      i % 2 === 0 ? paymentCreated(merchant, { data: { payment_id: `pay_${i}`, order_id: 'o', merchant_id: merchant, amount: 5, currency: 'EUR', status: 'pending', note: 'n'.repeat(600) } }) : paymentCreated(merchant),
    );
    for (const event of events) expect((await publish(compressed.url, event)).status).toBe(202);
    const received = await Promise.all(clients.map((client) => client.waitForEvents(events.length, channel)));
    for (const list of received) expect(list).toEqual(received[0]);
    expect(received[0]!.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect({
      json: (await frames({ format: 'json', compression: 'none' })) - before.json,
      jsonDeflate: (await frames({ format: 'json', compression: 'deflate' })) - before.jsonDeflate,
      protobuf: (await frames({ format: 'protobuf', compression: 'none' })) - before.protobuf,
      protobufDeflate: (await frames({ format: 'protobuf', compression: 'deflate' })) - before.protobufDeflate,
    }).toEqual({ json: 6, jsonDeflate: 3, protobuf: 6, protobufDeflate: 3 });
    for (const [i, [kind]] of kinds.entries()) {
      const client = clients[i]!;
      expect(client.raw.slice(-events.length).every((f) => f.binary === kind.startsWith('protobuf')), kind).toBe(true);
      if (kind.endsWith('deflate')) expect(client.socket.extensions).toBe('permessage-deflate');
    }
    await Promise.all(clients.map((client) => client.close()));
  });
});
