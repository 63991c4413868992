/**
 * PROTOCOL.md section 4: channel names (pattern and 200 characters) and grants
 * (exact names and `prefix*` patterns in the `channels` claim, checked on every
 * subscribe), with the error rows `invalid-channel` and `forbidden` of section 3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({ env: { MAX_COMMANDS_PER_SECOND: '10000', MAX_SUBSCRIPTIONS_PER_CONNECTION: '1000' } });
});

afterAll(async () => {
  await herald?.stop();
});

function open(claims: Record<string, unknown>): Promise<TestClient> {
  return TestClient.open(herald.wsUrl, { token: clientToken(claims), protocols: 'v1.json' });
}

describe('channel names', () => {
  const valid = [
    'merchant:m_42',
    'payment:pay_456',
    'order:order_789',
    'a',
    'A-Z_0-9',
    'tenant:eu-1:merchant:m.1',
    'a:b.c:d-e:f_g',
    'x:...',
    `c:${'x'.repeat(198)}`, // exactly 200 characters
  ];
  const invalid = [
    '',
    'merchant:',
    ':m_42',
    'merchant::m_42',
    'merchant m_42',
    'merchant:m 42',
    'merchant.x:m_42', // no dot in the first segment
    'merchant/m_42',
    'merchant:m_42*',
    'merchant:m_42\n',
    'merchant:mü',
    'kanal:日本',
    `c:${'x'.repeat(199)}`, // 201 characters
    'x'.repeat(1000),
  ];

  it('accepts every name that matches the pattern, up to 200 characters', async () => {
    const client = await open({ channels: ['*'] });
    for (const channel of valid) {
      expect(channel.length).toBeLessThanOrEqual(200);
      const reply = await client.subscribe(channel);
      expect(reply.type, channel).toBe('subscribed');
      expect(reply.data.channel).toBe(channel);
    }
    await client.close();
  });

  it('answers invalid-channel with replyTo to a name that breaks the rules, and stays open', async () => {
    const client = await open({ channels: ['*'] });
    for (const channel of invalid) {
      const reply = await client.subscribe(channel);
      expect(reply.type, JSON.stringify(channel)).toBe('error');
      expect(reply.error.type, JSON.stringify(channel)).toBe('/problems/invalid-channel');
      expect(reply.error.message).toEqual(expect.any(String));
    }
    // More than ten in a row: invalid-channel is not an invalid message, still open.
    expect(invalid.length).toBeGreaterThan(10);
    expect((await client.request('ping')).type).toBe('pong');
    expect((await client.subscribe('merchant:m_42')).type).toBe('subscribed');
    await client.close();
  });

  it('answers invalid-channel to unsubscribe with a bad name too', async () => {
    const client = await open({ channels: ['*'] });
    const reply = await client.request('unsubscribe', { channel: 'bad name' });
    expect(reply.error?.type).toBe('/problems/invalid-channel');
    await client.close();
  });
});

describe('grants', () => {
  it('an exact grant allows that channel and no other, not even a longer one', async () => {
    const client = await open({ channels: ['merchant:m_1'] });
    expect((await client.subscribe('merchant:m_1')).type).toBe('subscribed');
    for (const channel of ['merchant:m_10', 'merchant:m_', 'merchant:m_1:x', 'merchant', 'merchant:m_2', 'Merchant:m_1']) {
      const reply = await client.subscribe(channel);
      expect(reply.type, channel).toBe('error');
      expect(reply.error.type).toBe('/problems/forbidden');
    }
    await client.close();
  });

  it('a prefix grant payment:* allows any channel that starts with payment:', async () => {
    const client = await open({ channels: ['payment:*'] });
    for (const channel of ['payment:pay_1', 'payment:pay_2', 'payment:x:y.z']) {
      expect((await client.subscribe(channel)).type, channel).toBe('subscribed');
    }
    for (const channel of ['payment', 'payments:pay_1', 'merchant:m_1', 'order:payment:pay_1']) {
      const reply = await client.subscribe(channel);
      expect(reply.error?.type, channel).toBe('/problems/forbidden');
    }
    await client.close();
  });

  it('several grants combine', async () => {
    const client = await open({ channels: ['merchant:m_7', 'order:*'] });
    expect((await client.subscribe('merchant:m_7')).type).toBe('subscribed');
    expect((await client.subscribe('order:o_1')).type).toBe('subscribed');
    expect((await client.subscribe('payment:p_1')).error?.type).toBe('/problems/forbidden');
    await client.close();
  });

  it('no channels claim (or an empty one) grants nothing', async () => {
    for (const claims of [{}, { channels: [] }]) {
      const client = await open(claims);
      const reply = await client.subscribe('merchant:m_1');
      expect(reply.error?.type).toBe('/problems/forbidden');
      await client.close();
    }
  });

  it('forbidden: an error frame with replyTo naming the channel; the connection stays open and gets no events', async () => {
    const client = await open({ channels: ['merchant:m_allowed'] });
    client.send({ type: 'subscribe', id: 'c7', data: { channel: 'merchant:m_9' } });
    const error = await client.next((frame) => frame.replyTo === 'c7');
    expect(error).toMatchObject({ type: 'error', replyTo: 'c7', error: { type: '/problems/forbidden', message: expect.stringContaining('merchant:m_9') } });
    expect(error.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Object.keys(error.error).sort()).toEqual(['message', 'type']);

    const answer = await publish(herald.url, paymentCreated('m_9'));
    expect(answer.status).toBe(202);
    await client.sync();
    expect(client.events()).toHaveLength(0);
    // Still usable.
    expect((await client.subscribe('merchant:m_allowed')).type).toBe('subscribed');
    await client.close();
  });

  it('grants are checked on every subscribe, also after an unsubscribe', async () => {
    const client = await open({ channels: ['merchant:m_3'] });
    for (let i = 0; i < 3; i++) {
      expect((await client.subscribe('merchant:m_3')).type).toBe('subscribed');
      expect((await client.subscribe('merchant:m_4')).error?.type).toBe('/problems/forbidden');
      expect((await client.request('unsubscribe', { channel: 'merchant:m_3' })).type).toBe('unsubscribed');
    }
    await client.close();
  });
});
