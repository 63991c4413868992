/**
 * Security, WebSocket frames: bytes a hostile client sends to a real edge (on Redis,
 * MAX_MESSAGE_SIZE 256 KiB so that 100,000-deep nesting fits in one frame). Each gets
 * the close code or problem PROTOCOL.md section 3 gives it, nothing is buffered past
 * the size limit, prototype keys are plain data, floods are rate-limited and then
 * closed 1008; after each, a legitimate client still subscribes and receives an event.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../support/ingest.js';
import { clientFrame, rawConnect, type RawConnection } from '../support/raw-ws.js';
import { clientToken, publisherToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';
import { eventOn, expectAccepted, expectProblem, errorFields, rawPost, subscriber, unique } from '../ingest/helpers.js';
import { startTarget, type Target } from './support.js';

const MAX_MESSAGE = 256 * 1024;
let target: Target;

beforeAll(async () => {
  target = await startTarget({ label: 'sec-frames', edgeEnv: { MAX_MESSAGE_SIZE: '256KiB', MAX_COMMANDS_PER_SECOND: '50' } });
});

afterAll(async () => {
  await target?.stop();
});

afterEach(async () => {
  await target.expectServes();
});

const token = (channels: string[] = ['merchant:*']): string => clientToken({ sub: unique('frames'), channels });
const open = (channels?: string[], codec: 'json' | 'protobuf' = 'json'): Promise<TestClient> =>
  TestClient.open(target.edge.wsUrl, { token: token(channels), codec, ...(codec === 'protobuf' ? { protocols: 'v1.protobuf' } : {}) });

async function rawOpen(): Promise<RawConnection> {
  const raw = await rawConnect(target.edge.port, '/v1/ws', { Authorization: `Bearer ${token()}` });
  expect(raw.status).toBe(101);
  const connected = await raw.nextFrame();
  expect(JSON.parse(connected!.payload.toString()).type).toBe('connected');
  return raw;
}

describe('frame-level attacks: closed with the documented code', () => {
  it.each([
    ['a byte that is never UTF-8 (0xff)', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])],
    ['an overlong encoding of "/" (0xc0 0xaf)', Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x7d])],
    ['a UTF-16 surrogate half encoded in UTF-8 (0xed 0xa0 0x80)', Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])],
    ['a truncated sequence at the end (0xe2 0x82)', Buffer.from([0x7b, 0x22, 0x22, 0x7d, 0xe2, 0x82])],
  ])('invalid UTF-8 in a text frame, %s: close 1007', async (_name, bytes) => {
    const raw = await rawOpen();
    raw.write(clientFrame(0x1, bytes));
    expect(await raw.closeCode()).toBe(1007);
    raw.destroy();
  });

  it('a binary frame on v1.json: close 1003; a text frame on v1.protobuf: close 1003', async () => {
    const json = await open();
    json.sendRaw(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    expect((await json.closed).code).toBe(1003);
    const protobuf = await open(undefined, 'protobuf');
    protobuf.sendRaw(Buffer.from(JSON.stringify({ type: 'ping' })));
    expect((await protobuf.closed).code).toBe(1003);
  });

  it('one frame over MAX_MESSAGE_SIZE: close 1009 before the payload is read', async () => {
    const raw = await rawOpen();
    // Only the header announcing 256 KiB + 1: the edge refuses on the length alone.
    const header = clientFrame(0x1, Buffer.alloc(MAX_MESSAGE + 1, 0x20)).subarray(0, 14);
    raw.write(header);
    expect(await raw.closeCode()).toBe(1009);
    raw.destroy();
  });

  it('a frame announcing 2^63-1 bytes: close 1009 (or 1002), nothing allocated', async () => {
    const raw = await rawOpen();
    const header = Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
    raw.write(header);
    expect([1009, 1002]).toContain(await raw.closeCode());
    raw.destroy();
  });

  it('fragments each under the limit whose total is over it: close 1009 once the total passes 256 KiB, without the final fragment', async () => {
    const raw = await rawOpen();
    const fragment = Buffer.alloc(100 * 1024, 0x20);
    raw.write(clientFrame(0x1, Buffer.concat([Buffer.from('{"type":"ping","pad":"'), fragment]), { fin: false }));
    raw.write(clientFrame(0x0, fragment, { fin: false }));
    raw.write(clientFrame(0x0, fragment, { fin: false }));
    expect(await raw.closeCode()).toBe(1009);
    // The server has closed its side: more fragments go nowhere.
    await new Promise<void>((resolve) => (raw.socket.destroyed ? resolve() : raw.socket.once('close', () => resolve())));
    raw.destroy();
  });
});

describe('nesting and prototype keys in commands', () => {
  it('a command with 100,000-deep nesting: invalid-message with replyTo, the connection stays usable', async () => {
    const client = await open();
    const deep = `{"type":"subscribe","id":"deep","data":{"channel":"merchant:m_deep","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    expect(Buffer.byteLength(deep)).toBeLessThan(MAX_MESSAGE);
    client.send(deep);
    expect(await client.next((frame) => frame.replyTo === 'deep')).toMatchObject({ type: 'error', error: { type: '/problems/invalid-message' } });
    // Objects too, and a frame that is nothing but nesting (no id to reply to).
    client.send(`{"type":"ping","id":"deep-objects","x":${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}}`);
    expect(await client.next((frame) => frame.replyTo === 'deep-objects')).toMatchObject({ type: 'error', error: { type: '/problems/invalid-message' } });
    client.send(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(await client.next((frame) => frame.type === 'error')).toMatchObject({ error: { type: '/problems/invalid-message' } });
    expect((await client.request('ping')).type).toBe('pong');
    expect((await client.subscribe('merchant:m_after_deep')).type).toBe('subscribed');
    await client.close();
  });

  it('__proto__ and constructor in commands are plain keys: no command is completed from a prototype', async () => {
    const client = await open(['merchant:m_proto']);
    const reply = (id: string): Promise<Frame> => client.next((frame) => frame.replyTo === id);
    // A command whose every field is under __proto__ has no type.
    client.send('{"__proto__":{"type":"ping"},"id":"p1"}');
    expect(await reply('p1')).toMatchObject({ type: 'error', error: { type: '/problems/invalid-message' } });
    // data.__proto__.channel is not data.channel.
    client.send('{"type":"subscribe","id":"p2","data":{"__proto__":{"channel":"merchant:m_proto"}}}');
    expect(await reply('p2')).toMatchObject({ type: 'error', error: { type: '/problems/invalid-message' } });
    // A forbidden channel stays forbidden whatever rides along.
    client.send('{"type":"subscribe","id":"p3","data":{"channel":"merchant:m_other","__proto__":{"channel":"merchant:m_proto"}},"constructor":{"prototype":{"allows":true}}}');
    expect(await reply('p3')).toMatchObject({ type: 'error', error: { type: '/problems/forbidden' } });
    for (const type of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      client.send(JSON.stringify({ type, id: `t-${type}` }));
      expect(await reply(`t-${type}`)).toMatchObject({ type: 'error', error: { type: '/problems/unknown-type' } });
    }
    client.send('{"type":"ping","id":"__proto__"}');
    expect(await reply('__proto__')).toMatchObject({ type: 'pong' });
    client.send('{"type":"subscribe","id":"p4","data":{"channel":"merchant:m_proto","__proto__":{"since":"0-0"}}}');
    expect(await reply('p4')).toMatchObject({ type: 'subscribed', data: { channel: 'merchant:m_proto', recovered: false, missed: 0 } });
    // Still forbidden after all of it: the grants were not touched.
    expect(await client.subscribe('merchant:m_other')).toMatchObject({ type: 'error', error: { type: '/problems/forbidden' } });
    await client.close();
  });

  it('channels named __proto__ and constructor are ordinary channels: events reach their subscribers only', async () => {
    const names = ['__proto__', 'constructor', 'hasOwnProperty'];
    const all = await subscriber(target.edge.wsUrl, names.map((name) => `merchant:${name}`));
    const bare = await open(['*']);
    for (const name of names) expect((await bare.subscribe(name)).type).toBe('subscribed');
    const ids: string[] = [];
    for (const name of names) {
      const event = { type: 'payment.updated', id: unique('evt_proto'), data: { payment_id: unique('pay'), merchant_id: name, status: 'captured' } };
      expect(expectAccepted(await publish(target.ingest.url, event)).channels[0]).toBe(`merchant:${name}`);
      await eventOn(all, `merchant:${name}`, event.id);
      ids.push(event.id);
    }
    expect(all.events().map((frame) => [frame.channel, frame.id])).toEqual(names.map((name, i) => [`merchant:${name}`, ids[i]]));
    expect(bare.events()).toEqual([]);
    await all.close();
    await bare.close();
  });

  it('__proto__ and constructor keys in ingest data are carried exactly, and pollute nothing', async () => {
    const merchant = unique('m_pp');
    const client = await subscriber(target.edge.wsUrl, [`merchant:${merchant}`]);
    const id = unique('evt_pp');
    const text =
      `{"type":"payment.updated","id":"${id}","data":{"payment_id":"${unique('pay')}","merchant_id":"${merchant}","status":"captured",` +
      `"__proto__":{"polluted":"yes","currency":"EUR","amount":1},"constructor":{"prototype":{"polluted":"yes"}},"nested":{"__proto__":{"isAdmin":true}}}}`;
    const answer = await rawPost(`${target.ingest.url}/v1/events`, text, { 'content-type': 'application/json', authorization: `Bearer ${publisherToken()}` });
    expectAccepted(answer);
    const frame = await eventOn(client, `merchant:${merchant}`, id);
    // Own keys, as sent: JSON.stringify of both sides keeps `__proto__` as a property.
    expect(JSON.stringify(frame.data)).toBe(JSON.stringify(JSON.parse(text).data));
    expect(Object.getPrototypeOf(frame.data)).toBe(Object.prototype);

    // Had Object.prototype taken `currency` or `amount`, a payment.created without them would pass.
    const missing = { type: 'payment.created', id: unique('evt_pp'), data: { payment_id: unique('pay'), order_id: unique('ord'), merchant_id: merchant, status: 'pending' } };
    const refused = await publish(target.ingest.url, missing);
    expectProblem(refused, 422, '/problems/validation-failed');
    expect(errorFields(refused.body).sort()).toEqual(['data.amount', 'data.currency']);
    // A later event carries no inherited field, and a later command is answered.
    const later = { type: 'payment.updated', id: unique('evt_pp'), data: { payment_id: unique('pay'), merchant_id: merchant, status: 'captured' } };
    expectAccepted(await publish(target.ingest.url, later));
    const laterFrame = await eventOn(client, `merchant:${merchant}`, later.id);
    expect(JSON.stringify(laterFrame)).not.toContain('polluted');
    expect(Object.keys(laterFrame.data).sort()).toEqual(['merchant_id', 'payment_id', 'status']);
    expect((await client.request('ping')).type).toBe('pong');
    await client.close();
  });
});

describe('command floods', () => {
  it('400 commands at once: rate-limited errors with replyTo after the burst, then close 1008', async () => {
    const client = await open();
    for (let i = 0; i < 400; i++) client.send({ type: 'ping', id: `f${i}` });
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    const pongs = client.frames.filter((frame) => frame.type === 'pong');
    const limited = client.frames.filter((frame) => frame.type === 'error' && frame.error.type === '/problems/rate-limited');
    // The burst (MAX_COMMANDS_PER_SECOND, 50) is served; what follows is refused, each with its id.
    expect(pongs.length).toBeGreaterThanOrEqual(50);
    expect(pongs.length).toBeLessThan(60);
    expect(limited.length).toBeGreaterThan(100);
    expect(limited.every((frame) => /^f\d+$/.test(frame.replyTo))).toBe(true);
    // Nothing else came back.
    expect(client.frames.length).toBe(1 + pongs.length + limited.length);
  });

  it('a flood of subscribes to channels the token does not grant: forbidden or rate-limited, then close 1008', async () => {
    const client = await open(['merchant:m_1']);
    for (let i = 0; i < 400; i++) client.send({ type: 'subscribe', id: `s${i}`, data: { channel: `merchant:m_${i + 2}` } });
    expect((await client.closed).code).toBe(1008);
    const types = new Set(client.frames.filter((frame) => frame.type === 'error').map((frame) => frame.error.type));
    expect([...types].sort()).toEqual(['/problems/forbidden', '/problems/rate-limited']);
    expect(client.events()).toEqual([]);
  });
});
