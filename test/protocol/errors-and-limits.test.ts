/**
 * PROTOCOL.md section 3, the error table and the close codes: invalid messages and
 * their streak, subscription and rate limits, token expiry while connected, binary
 * frames, invalid UTF-8 and oversized frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { clientFrame, rawConnect, type RawConnection } from '../support/raw-ws.js';
import { clientToken, epochSeconds } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({
    env: {
      MAX_COMMANDS_PER_SECOND: '10000',
      MAX_MESSAGE_SIZE: '1KiB',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
      // A fast sweep, so that token expiry is noticed within ~100 ms.
      WEBSOCKET_PING_INTERVAL: '200ms',
      WEBSOCKET_READ_TIMEOUT: '5s',
    },
  });
});

afterAll(async () => {
  await herald?.stop();
});

function open(claims: Record<string, unknown> = { channels: ['*'] }): Promise<TestClient> {
  return TestClient.open(herald.wsUrl, { token: clientToken(claims), protocols: 'v1.json' });
}

const INVALID_MESSAGES: Array<[string, string]> = [
  ['not JSON', '{"type":"ping"'],
  ['plain text', 'hello'],
  ['an empty message', ''],
  ['a JSON array', '[{"type":"ping"}]'],
  ['a JSON string', '"ping"'],
  ['a JSON number', '42'],
  ['JSON null', 'null'],
  ['an object without type', '{}'],
  ['a type that is not a string', '{"type":5}'],
  ['a type that is null', '{"type":null}'],
  ['subscribe without data', '{"type":"subscribe"}'],
  ['subscribe with data not an object', '{"type":"subscribe","data":"merchant:m_1"}'],
  ['subscribe without channel', '{"type":"subscribe","data":{}}'],
  ['subscribe with a channel that is not a string', '{"type":"subscribe","data":{"channel":42}}'],
  ['subscribe with a since that is not a string', '{"type":"subscribe","data":{"channel":"merchant:m_1","since":5}}'],
  ['subscribe with a since that is not a seq', '{"type":"subscribe","data":{"channel":"merchant:m_1","since":"yesterday"}}'],
  ['unsubscribe with data an array', '{"type":"unsubscribe","data":[]}'],
  ['an empty id', '{"type":"ping","id":""}'],
  ['an id that is an object', '{"type":"ping","id":{"a":1}}'],
];

describe('invalid-message', () => {
  for (const [name, text] of INVALID_MESSAGES) {
    it(`answers invalid-message to ${name}, and stays open`, async () => {
      const client = await open();
      client.send(text);
      const error = await client.next((frame) => frame.type === 'error');
      expect(error.error.type).toBe('/problems/invalid-message');
      expect(error.error.message).toEqual(expect.any(String));
      expect(error.timestamp).toMatch(/\.\d{3}Z$/);
      expect((await client.request('ping')).type).toBe('pong');
      await client.close();
    });
  }

  it('carries a valid id back as replyTo on an invalid command', async () => {
    const client = await open();
    client.send({ type: 'subscribe', id: 'bad-1' });
    const error = await client.next((frame) => frame.replyTo === 'bad-1');
    expect(error.error.type).toBe('/problems/invalid-message');
    await client.close();
  });

  it('closes with 1007 after 10 invalid messages in a row, having answered each', async () => {
    const client = await open();
    for (let i = 0; i < 10; i++) client.send(i % 2 === 0 ? 'garbage' : '{"type":7}');
    const { code } = await client.closed;
    expect(code).toBe(1007);
    expect(client.errors('/problems/invalid-message')).toHaveLength(10);
  });

  it('nine invalid messages in a row do not close; a valid command resets the streak', async () => {
    const client = await open();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9; i++) client.send('garbage');
      expect((await client.request('ping')).type).toBe('pong');
    }
    expect(client.errors('/problems/invalid-message')).toHaveLength(27);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    // And the streak still counts from zero: ten more close it.
    for (let i = 0; i < 10; i++) client.send('garbage');
    expect((await client.closed).code).toBe(1007);
  });
});

describe('too-many-subscriptions', () => {
  it('refuses a subscription over MAX_SUBSCRIPTIONS_PER_CONNECTION, stays open, and frees a place on unsubscribe', async () => {
    const client = await open();
    for (const channel of ['merchant:m_1', 'merchant:m_2', 'merchant:m_3']) expect((await client.subscribe(channel)).type).toBe('subscribed');
    const refused = await client.subscribe('merchant:m_4');
    expect(refused.type).toBe('error');
    expect(refused.error.type).toBe('/problems/too-many-subscriptions');
    // Subscribing again to a channel it has is not a new subscription.
    expect((await client.subscribe('merchant:m_2')).type).toBe('subscribed');
    expect((await client.request('unsubscribe', { channel: 'merchant:m_1' })).type).toBe('unsubscribed');
    expect((await client.subscribe('merchant:m_4')).type).toBe('subscribed');
    expect((await client.subscribe('merchant:m_5')).error?.type).toBe('/problems/too-many-subscriptions');
    await client.close();
  });

  it('counts per connection, not per user', async () => {
    const first = await open({ sub: 'same-user', channels: ['*'] });
    const second = await open({ sub: 'same-user', channels: ['*'] });
    for (const channel of ['order:o_1', 'order:o_2', 'order:o_3']) {
      expect((await first.subscribe(channel)).type).toBe('subscribed');
      expect((await second.subscribe(channel)).type).toBe('subscribed');
    }
    await first.close();
    await second.close();
  });
});

describe('rate-limited', () => {
  let limited: HeraldProcess;
  beforeAll(async () => {
    limited = await startHerald({ env: { MAX_COMMANDS_PER_SECOND: '5' } });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('a burst over MAX_COMMANDS_PER_SECOND gets rate-limited errors with replyTo; the connection stays open', async () => {
    const client = await TestClient.open(limited.wsUrl, { token: clientToken() });
    const replies = await Promise.all(Array.from({ length: 20 }, () => client.request('ping')));
    const pongs = replies.filter((frame) => frame.type === 'pong');
    const limitedReplies = replies.filter((frame) => frame.error?.type === '/problems/rate-limited');
    expect(pongs.length + limitedReplies.length).toBe(20);
    // The bucket holds 5; a slow machine may refill one or two during the burst.
    expect(pongs.length).toBeGreaterThanOrEqual(5);
    expect(pongs.length).toBeLessThanOrEqual(8);
    expect(limitedReplies.length).toBeGreaterThanOrEqual(12);
    // Still open, and served again once the bucket refills (time is the only signal).
    let pong: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 40 && !pong; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const reply = await client.request('ping');
      if (reply.type === 'pong') pong = reply;
    }
    expect(pong?.type).toBe('pong');
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    await client.close();
  });

  it('sustained abuse (far over the limit, for a while) closes with 1008', async () => {
    const client = await TestClient.open(limited.wsUrl, { token: clientToken() });
    const startedAt = Date.now();
    // 20 commands every 50 ms: 400 per second against a limit of 5.
    const timer = setInterval(() => {
      if (client.socket.readyState !== client.socket.OPEN) return;
      for (let i = 0; i < 20; i++) client.send({ type: 'ping' });
    }, 50);
    try {
      const { code } = await client.closed;
      expect(code).toBe(1008);
    } finally {
      clearInterval(timer);
    }
    expect(client.errors('/problems/rate-limited').length).toBeGreaterThan(0);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });
});

describe('unauthorized: the token expires while connected', () => {
  it('sends an unauthorized error, then closes with 1008', async () => {
    const exp = epochSeconds(2);
    const client = await open({ exp, channels: ['*'] });
    expect((await client.subscribe('merchant:m_exp')).type).toBe('subscribed');
    const { code } = await client.closed;
    const closedAt = Date.now();
    expect(code).toBe(1008);
    expect(closedAt).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(closedAt).toBeLessThan(exp * 1000 + 2_000);
    const error = client.errors('/problems/unauthorized');
    expect(error).toHaveLength(1);
    expect(client.frames.at(-1)).toBe(error[0]);
  });
});

/** A raw connection past the handshake and the `connected` frame. */
async function rawOpen(): Promise<RawConnection> {
  const raw = await rawConnect(herald.port, '/v1/ws', { Authorization: `Bearer ${clientToken()}`, 'Sec-WebSocket-Protocol': 'v1.json' });
  expect(raw.status).toBe(101);
  const first = await raw.nextFrame();
  expect(first?.opcode).toBe(0x1);
  expect(JSON.parse(first!.payload.toString()).type).toBe('connected');
  return raw;
}

describe('close codes', () => {
  it('1000 when the client closes normally: the server answers the close handshake with 1000', async () => {
    const client = await open();
    await client.subscribe('merchant:m_bye');
    expect((await client.close(1000)).code).toBe(1000);
  });

  it('1002 on a WebSocket protocol error: an unmasked client frame', async () => {
    const raw = await rawOpen();
    raw.write(clientFrame(0x1, JSON.stringify({ type: 'ping' }), { mask: false }));
    expect(await raw.closeCode()).toBe(1002);
    raw.destroy();
  });

  it('1002 on a WebSocket protocol error: a reserved bit set without an extension', async () => {
    const raw = await rawOpen();
    raw.write(clientFrame(0x1, JSON.stringify({ type: 'ping' }), { rsv: 4 }));
    expect(await raw.closeCode()).toBe(1002);
    raw.destroy();
  });

  it('1002 on a WebSocket protocol error: an unknown opcode', async () => {
    const raw = await rawOpen();
    raw.write(clientFrame(0x3, 'x'));
    expect(await raw.closeCode()).toBe(1002);
    raw.destroy();
  });

  it('a valid text frame on a raw socket is answered (the raw client itself is sound)', async () => {
    const raw = await rawOpen();
    raw.write(clientFrame(0x1, JSON.stringify({ type: 'ping', id: 'raw-1' })));
    const frame = await raw.nextFrame();
    expect(JSON.parse(frame!.payload.toString())).toMatchObject({ type: 'pong', replyTo: 'raw-1' });
    raw.write(clientFrame(0x8, Buffer.from([0x03, 0xe8])));
    expect(await raw.closeCode()).toBe(1000);
    raw.destroy();
  });

  it('1007 on invalid UTF-8 split over a fragmented text message', async () => {
    const raw = await rawOpen();
    raw.write(clientFrame(0x1, Buffer.from('{"type":"ping","id":"'), { fin: false }));
    raw.write(clientFrame(0x0, Buffer.from([0xc3, 0x28, 0x22, 0x7d])));
    expect(await raw.closeCode()).toBe(1007);
    raw.destroy();
  });

  it('1003 on a binary frame', async () => {
    const client = await open();
    client.sendRaw(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    expect((await client.closed).code).toBe(1003);
  });

  it('1007 on invalid UTF-8 in a text frame', async () => {
    const client = await open();
    client.sendRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])); // {"\xff\xfe"}
    expect((await client.closed).code).toBe(1007);
  });

  it('1009 on a frame over MAX_MESSAGE_SIZE; a frame of exactly MAX_MESSAGE_SIZE is fine', async () => {
    const client = await open();
    const base = JSON.stringify({ type: 'ping', id: 'big', pad: '' });
    const exact = JSON.stringify({ type: 'ping', id: 'big', pad: 'x'.repeat(1024 - base.length) });
    expect(Buffer.byteLength(exact)).toBe(1024);
    client.send(exact);
    expect((await client.next((frame) => frame.replyTo === 'big')).type).toBe('pong');
    client.send(JSON.stringify({ type: 'ping', id: 'big', pad: 'x'.repeat(1025 - base.length) }));
    expect((await client.closed).code).toBe(1009);
  });
});
