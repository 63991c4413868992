/**
 * Security, authorization: grants are matched exactly as PROTOCOL.md section 4 says
 * (an exact name, or a pattern ending in `*` matching any suffix, nothing else), channel
 * names that break the rules get /problems/invalid-channel whatever the grants, and no
 * event field a producer controls can route an event of merchant B to a subscriber of
 * merchant A: every adversarial `merchant_id` is refused naming the field, or routed to
 * exactly the channel its value derives (the default route `merchant:{data.merchant_id}`).
 * The second path is exercised with `payment.loose`, a registered type whose schema
 * leaves `merchant_id` unconstrained, so the router is the only guard.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publish } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';
import { errorFields, eventOn, expectAccepted, expectProblem, unique } from '../ingest/helpers.js';
import { startTarget, type Target } from './support.js';

let target: Target;
let typesDir: string;

beforeAll(async () => {
  typesDir = mkdtempSync(join(tmpdir(), 'herald-sec-types-'));
  const file = join(typesDir, 'types.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: api.example.com/v1',
      'kind: WebSocketMessageType',
      'metadata: {name: security-loose}',
      'spec:',
      '  types:',
      '    - name: payment.loose',
      '      description: A payment type whose schema says nothing of merchant_id',
      '      schema: {type: object, required: [payment_id], properties: {payment_id: {type: string, maxLength: 64}}}',
      '',
    ].join('\n'),
  );
  target = await startTarget({ label: 'sec-authz', ingestEnv: { MESSAGE_TYPES_FILE: file } });
});

afterAll(async () => {
  await target?.stop();
  if (typesDir) rmSync(typesDir, { recursive: true, force: true });
});

afterEach(async () => {
  await target.expectServes();
});

const open = (channels: unknown): Promise<TestClient> => TestClient.open(target.edge.wsUrl, { token: clientToken({ sub: unique('authz'), channels: channels as string[] }) });

async function expectSubscribe(client: TestClient, channel: unknown, outcome: 'subscribed' | string): Promise<void> {
  const reply = await client.request('subscribe', { channel });
  if (outcome === 'subscribed') expect(reply, JSON.stringify(channel)).toMatchObject({ type: 'subscribed', data: { channel } });
  else expect(reply, JSON.stringify(channel)).toMatchObject({ type: 'error', error: { type: outcome } });
}

describe('grants (section 4)', () => {
  it.each<[string, string[], Array<[string, 'subscribed' | '/problems/forbidden']>]>([
    [
      'exact merchant:m_1',
      ['merchant:m_1'],
      [
        ['merchant:m_1', 'subscribed'],
        ['merchant:m_10', '/problems/forbidden'],
        ['merchant:m_1:x', '/problems/forbidden'],
        ['merchant:m_1.x', '/problems/forbidden'],
        ['merchant:m_', '/problems/forbidden'],
        ['Merchant:m_1', '/problems/forbidden'],
        ['merchant', '/problems/forbidden'],
      ],
    ],
    [
      'pattern merchant:m_1* (any suffix, so merchant:m_10 too)',
      ['merchant:m_1*'],
      [
        ['merchant:m_1', 'subscribed'],
        ['merchant:m_10', 'subscribed'],
        ['merchant:m_1:x', 'subscribed'],
        ['merchant:m_2', '/problems/forbidden'],
        ['merchant:m_', '/problems/forbidden'],
        ['merchant:M_1', '/problems/forbidden'],
      ],
    ],
    [
      'pattern merchant:* (not merchant, not merchantx:1)',
      ['merchant:*'],
      [
        ['merchant:m_9', 'subscribed'],
        ['merchant:..', 'subscribed'],
        ['merchant', '/problems/forbidden'],
        ['merchantx:1', '/problems/forbidden'],
        ['payment:p_1', '/problems/forbidden'],
      ],
    ],
    [
      'a * inside a grant is no wildcard: merchant:*:orders',
      ['merchant:*:orders'],
      [
        ['merchant:m_1:orders', '/problems/forbidden'],
        ['merchant:x', '/problems/forbidden'],
      ],
    ],
    ['no grants at all', [], [['merchant:m_1', '/problems/forbidden']]],
  ])('grant %s', async (_name, grants, cases) => {
    const client = await open(grants);
    for (const [channel, outcome] of cases) await expectSubscribe(client, channel, outcome);
    // Refusals leave the connection open.
    expect((await client.request('ping')).type).toBe('pong');
    await client.close();
  });

  it('a grant that is not a valid channel pattern matches nothing it should not: "merchant:m_1\\n" and " merchant:m_1"', async () => {
    const client = await open(['merchant:m_1\n', ' merchant:m_1', 'merchant:m_1 ']);
    await expectSubscribe(client, 'merchant:m_1', '/problems/forbidden');
    await client.close();
  });
});

describe('channel names (section 4): invalid-channel whatever the grants', () => {
  const tooLong = `merchant:${'a'.repeat(200 - 'merchant:'.length + 1)}`;
  const longest = `merchant:${'a'.repeat(200 - 'merchant:'.length)}`;
  it.each([
    ['a wildcard requested: merchant:m_1*', 'merchant:m_1*'],
    ['a wildcard requested: merchant:*', 'merchant:*'],
    ['a wildcard requested: *', '*'],
    ['NUL', 'merchant:m_1\u0000'],
    ['NUL inside', 'merchant:m_1\u0000merchant:m_2'],
    ['a newline', 'merchant:m_1\n'],
    ['a newline and a second channel', 'merchant:m_1\nmerchant:m_2'],
    ['CR LF', 'merchant:m_1\r\n'],
    ['a path: ..', '..'],
    ['a path: merchant:m_1/../m_2', 'merchant:m_1/../m_2'],
    ['a path: ../merchant:m_1', '../merchant:m_1'],
    ['a Cyrillic а (homoglyph) in merchаnt', 'merch\u0430nt:m_1'],
    ['a fullwidth colon', 'merchant\uff1am_1'],
    ['a zero-width space', 'merchant:m_\u200b1'],
    ['201 characters', tooLong],
    ['empty', ''],
    ['a trailing colon', 'merchant:'],
    ['two colons', 'merchant::m_1'],
    ['a space', 'merchant: m_1'],
    ['percent-encoded', 'merchant%3Am_1'],
    ['a comma list', 'merchant:m_1,merchant:m_2'],
  ])('%s', async (_name, channel) => {
    const client = await open(['*']);
    await expectSubscribe(client, channel, '/problems/invalid-channel');
    const unsubscribe = await client.request('unsubscribe', { channel });
    expect(unsubscribe).toMatchObject({ type: 'error', error: { type: '/problems/invalid-channel' } });
    expect((await client.request('ping')).type).toBe('pong');
    await client.close();
  });

  it('200 characters is a valid name: granted by *, forbidden to merchant:m_1; `merchant:..` is a plain channel', async () => {
    const all = await open(['*']);
    await expectSubscribe(all, longest, 'subscribed');
    await expectSubscribe(all, 'merchant:..', 'subscribed');
    await all.close();
    const one = await open(['merchant:m_1']);
    await expectSubscribe(one, longest, '/problems/forbidden');
    await expectSubscribe(one, 'merchant:..', '/problems/forbidden');
    await one.close();
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { channel: 'merchant:m_1' }],
    ['an array', ['merchant:m_1']],
    ['a boolean', true],
  ])('a channel that is %s: invalid-message', async (_name, channel) => {
    const client = await open(['*']);
    await expectSubscribe(client, channel, '/problems/invalid-message');
    await client.close();
  });
});

describe('tenant isolation under adversarial merchant_id', () => {
  const mA = unique('m_A');
  const mB = unique('m_B');
  const adversarial: Array<[string, unknown]> = [
    ['a comma list naming B', `${mA},merchant:${mB}`],
    ['B with a wildcard', `${mB}*`],
    ['a lone wildcard', '*'],
    ['A with a sub-channel', `${mA}:x`],
    ['A then B as sub-channels', `${mA}:merchant:${mB}`],
    ['a colon only', 'm:1'],
    ['empty', ''],
    ['1 KB long', 'x'.repeat(1024)],
    ['129 characters', 'x'.repeat(129)],
    ['B with a newline', `${mB}\n`],
    ['B with a trailing space', `${mB} `],
    ['B with NUL', `${mB}\u0000`],
    ['a path to B', `../${mB}`],
    ['A, up, B', `${mA}/../${mB}`],
    ['B with a Cyrillic м', `\u043c${mB.slice(1)}`],
    ['a number', 42],
    ['a fraction', 4.2],
    ['an unsafe integer', 2 ** 53 + 2],
    ['an object', { id: mB }],
    ['an array of B', [mB]],
    ['an array of A and B', [mA, mB]],
    ['null', null],
    ['true', true],
  ];

  /** The channels an accepted event must have gone to: exactly what its fields derive. */
  function derived(merchant: unknown, paymentId: string): string[] {
    const channels: string[] = [];
    if (merchant !== null) channels.push(`merchant:${String(merchant)}`);
    channels.push(`payment:${paymentId}`);
    return channels;
  }

  it('each is refused naming data.merchant_id, or routed exactly as derived; merchant A subscribers get only A events, B only B', async () => {
    const clientA = await open([`merchant:${mA}`]);
    const clientAStar = await open([`merchant:${mA}*`]);
    const clientB = await open([`merchant:${mB}`]);
    await expectSubscribe(clientA, `merchant:${mA}`, 'subscribed');
    // The A* client also listens where a sub-channel of A would land.
    for (const channel of [`merchant:${mA}`, `merchant:${mA}:x`, `merchant:${mA}:merchant:${mB}`, `merchant:${mA}0`]) await expectSubscribe(clientAStar, channel, 'subscribed');
    await expectSubscribe(clientAStar, `merchant:${mB}`, '/problems/forbidden');
    await expectSubscribe(clientB, `merchant:${mB}`, 'subscribed');

    const sentA: string[] = [];
    const sentB: string[] = [];
    const legit = async (merchant: string, into: string[]): Promise<void> => {
      const event = { type: 'payment.updated', id: unique('evt_legit'), data: { payment_id: unique('pay'), merchant_id: merchant, status: 'captured' } };
      expectAccepted(await publish(target.ingest.url, event));
      into.push(event.id);
    };
    await legit(mA, sentA);
    await legit(mB, sentB);

    const outcomes: string[] = [];
    for (const [name, merchant] of adversarial) {
      // payment.updated: the schema bounds merchant_id, so every adversarial value is refused.
      const strict = { type: 'payment.updated', id: unique('evt_adv'), data: { payment_id: unique('pay'), merchant_id: merchant, status: 'captured' } };
      const strictAnswer = await publish(target.ingest.url, strict);
      expectProblem(strictAnswer, 422, '/problems/validation-failed');
      expect(errorFields(strictAnswer.body), name).toContain('data.merchant_id');

      // payment.loose: only the router stands between the value and a channel name.
      const paymentId = unique('pay');
      const loose = { type: 'payment.loose', id: unique('evt_adv'), data: { payment_id: paymentId, merchant_id: merchant } };
      const answer = await publish(target.ingest.url, loose);
      if (answer.status === 202) {
        expect(answer.body.channels, name).toEqual(derived(merchant, paymentId));
        outcomes.push(`${name}: 202`);
      } else {
        expectProblem(answer, 422, '/problems/validation-failed');
        // The field, or `data` when the channel it would make is over 200 characters.
        expect(errorFields(answer.body), name).toEqual([typeof merchant === 'string' && merchant.length > 190 ? 'data' : 'data.merchant_id']);
        outcomes.push(`${name}: 422`);
      }
    }
    // What the router let through: only values that are a channel segment as they are
    // (a long plain name, an integer), and null, which routes to no merchant channel.
    expect(outcomes.filter((line) => line.includes(': 202')).map((line) => line.split(':')[0])).toEqual(['129 characters', 'a number', 'null']);

    await legit(mA, sentA);
    await legit(mB, sentB);
    const idsOf = (client: TestClient, channel: string): string[] => client.events(channel).map((frame: Frame) => frame.id as string);
    await eventOn(clientA, `merchant:${mA}`, sentA.at(-1)!);
    await eventOn(clientAStar, `merchant:${mA}`, sentA.at(-1)!);
    await eventOn(clientB, `merchant:${mB}`, sentB.at(-1)!);
    expect(idsOf(clientA, `merchant:${mA}`)).toEqual(sentA);
    expect(idsOf(clientAStar, `merchant:${mA}`)).toEqual(sentA);
    expect(idsOf(clientB, `merchant:${mB}`)).toEqual(sentB);
    // Nothing else on any connection: every event seen is a legitimate event of its own merchant.
    expect(clientA.events().map((frame) => frame.data.merchant_id)).toEqual(sentA.map(() => mA));
    expect(clientAStar.events().map((frame) => frame.data.merchant_id)).toEqual(sentA.map(() => mA));
    expect(clientB.events().map((frame) => frame.data.merchant_id)).toEqual(sentB.map(() => mB));
    for (const client of [clientA, clientAStar, clientB]) await client.close();
  });
});
