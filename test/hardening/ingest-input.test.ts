/**
 * Input hardening, bodies and frames: nesting is bounded before anything recurses
 * (INGEST_MAX_DEPTH), numbers arrive exactly as sent or are refused naming the field,
 * the payment schemas bound their fields, and a body that is not UTF-8 is refused.
 * In a batch, only the offending event fails. (The edge's command frames follow the
 * same nesting rule: test/security/frames.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import { publisherToken } from '../support/tokens.js';
import {
  channelsOf,
  created,
  errorFields,
  eventOn,
  expectAccepted,
  expectProblem,
  freshKeys,
  rawPost,
  subscriber,
  updated,
} from '../ingest/helpers.js';
import { expectStillServes } from './support.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald();
});

afterAll(async () => {
  await herald?.stop();
});

/** `{"x":{"x":...1...}}`, `levels` objects deep. */
const nested = (levels: number): string => `${'{"x":'.repeat(levels)}1${'}'.repeat(levels)}`;

/** An event's JSON text with `extra` (raw JSON text) as the property `extra` of `data`. */
function withRawExtra(event: Record<string, unknown>, extra: string): string {
  const text = JSON.stringify(event);
  return text.replace(/"data":\{/, `"data":{"extra":${extra},`);
}

const postText = (path: string, text: string | Buffer) =>
  rawPost(`${herald.url}${path}`, text, { 'content-type': 'application/json', authorization: `Bearer ${publisherToken()}` });

describe('nesting depth (INGEST_MAX_DEPTH, default 32)', () => {
  it('data nested 5,000 deep: 422 invalid-event naming the path, nothing published', async () => {
    const keys = freshKeys();
    const answer = await postText('/v1/events', withRawExtra(updated(keys), nested(5_000)));
    expectProblem(answer, 422, '/problems/invalid-event');
    // data is level 1 and extra level 2: the first object too deep is extra and 31 more.
    expect(errorFields(answer.body)).toEqual([`data.extra${'.x'.repeat(31)}`]);
  });

  it('data nested exactly 32 deep is accepted and delivered as sent', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`]);
    const event = updated(keys);
    // data is level 1 and extra (the first of 31 objects) level 2: the last is level 32.
    const text = withRawExtra(event, nested(31));
    expectAccepted(await postText('/v1/events', text));
    const delivered = await eventOn(client, `merchant:${keys.merchant}`, event.id as string);
    expect(delivered.data).toEqual(JSON.parse(text).data);
    await client.close();
    expectProblem(await postText('/v1/events', withRawExtra(updated(freshKeys()), nested(32))), 422, '/problems/invalid-event');
  });

  it('in a batch, only the deep event fails (207); the valid ones beside it are published', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`]);
    const before = created(keys);
    const deep = updated(keys);
    const after = updated(keys, {}, { status: 'succeeded' });
    const text = `{"events":[${JSON.stringify(before)},${withRawExtra(deep, nested(5_000))},${JSON.stringify(after)}]}`;
    const answer = await postText('/v1/events:batch', text);
    expect(answer.status).toBe(207);
    const [first, second, third] = answer.body.results;
    expect(first).toMatchObject({ status: 202, id: before.id });
    expect(second).toMatchObject({ status: 422, type: '/problems/invalid-event' });
    expect(errorFields(second)[0]).toMatch(/^events\[1\]\.data\.extra(\.x)+$/);
    expect(third).toMatchObject({ status: 202, id: after.id });
    await eventOn(client, `merchant:${keys.merchant}`, after.id as string);
    expect(client.events(`merchant:${keys.merchant}`).map((frame) => frame.id)).toEqual([before.id, after.id]);
    await client.close();
  });
  // Command frames nested past the limit (100,000 deep): test/security/frames.test.ts.
});

describe('numbers: carried exactly or refused', () => {
  it.each([
    ['1e400', 'amount'],
    ['9007199254740993', 'amount'],
    ['1e30', 'amount'],
    ['-5', 'amount'],
    ['1.5', 'amount'],
  ])('payment.created with "amount": %s: 422 naming data.amount', async (amount) => {
    const text = JSON.stringify(created(freshKeys())).replace('"amount":10000', `"amount":${amount}`);
    const answer = await postText('/v1/events', text);
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(errorFields(answer.body)).toContain('data.amount');
  });

  it.each([['1e400'], ['1e-400'], ['0.10000000000000000555'], ['-0'], ['123456789012345678901234567890']])(
    'an extra property %s anywhere in data: 422 naming it',
    async (number) => {
      const answer = await postText('/v1/events', withRawExtra(updated(freshKeys()), `{"list":[1,${number}]}`));
      expectProblem(answer, 422, '/problems/validation-failed');
      expect(errorFields(answer.body)).toEqual(['data.extra.list[1]']);
    },
  );

  it('numbers that survive arrive exactly: integers to 2^53-1, decimals, exponents', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`]);
    const event = created(keys, {}, { amount: Number.MAX_SAFE_INTEGER, rate: 0.1, fee: 1.5e-7, tiny: 1.25e-200, negative: -42.125 });
    expectAccepted(await publish(herald.url, event));
    const delivered = await eventOn(client, `merchant:${keys.merchant}`, event.id as string);
    expect(delivered.data).toEqual(event.data);
    await client.close();
  });

  it('a key given twice: 422 naming it (JSON.parse would keep only the last)', async () => {
    const text = JSON.stringify(created(freshKeys())).replace('"amount":10000', '"amount":10000,"amount":1');
    const answer = await postText('/v1/events', text);
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(errorFields(answer.body)).toEqual(['data.amount']);
  });
});

describe('strings: bounded fields and real text', () => {
  it.each([['pend\u0000ing'], ['pending\n'], ['<script>alert(1)</script>'], [''], ['x'.repeat(65)]])('status %j: 422 naming data.status', async (status) => {
    const answer = await publish(herald.url, updated(freshKeys(), {}, { status }));
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(errorFields(answer.body)).toContain('data.status');
  });

  // Adversarial merchant_id values (tenant isolation): test/security/authz.test.ts.

  it('a body that is not valid UTF-8: 400 invalid-request, on the single and the batch endpoint', async () => {
    const valid = Buffer.from(JSON.stringify(updated(freshKeys(), {}, { note: 'caf\u00e9' })));
    const at = valid.indexOf(Buffer.from('\u00e9'));
    const broken = Buffer.concat([valid.subarray(0, at), Buffer.from([0xc3, 0x28]), valid.subarray(at + 2)]);
    expectProblem(await postText('/v1/events', broken), 400, '/problems/invalid-request');
    expectProblem(await postText('/v1/events:batch', Buffer.concat([Buffer.from('{"events":['), broken, Buffer.from(']}')])), 400, '/problems/invalid-request');
    // A lone surrogate half and an overlong encoding are not UTF-8 either.
    expectProblem(await postText('/v1/events', Buffer.concat([valid.subarray(0, at), Buffer.from([0xed, 0xa0, 0x80]), valid.subarray(at + 2)])), 400, '/problems/invalid-request');
    expectProblem(await postText('/v1/events', Buffer.concat([valid.subarray(0, at), Buffer.from([0xc0, 0xaf]), valid.subarray(at + 2)])), 400, '/problems/invalid-request');
  });

  it('valid UTF-8, escaped or not, arrives as sent', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`]);
    const event = updated(keys, {}, { note: 'caf\u00e9 \u{1f4b3} \u2028 "q" \\ \u0000 \ud83d\udcb3' });
    expectAccepted(await publish(herald.url, event));
    const delivered = await eventOn(client, `merchant:${keys.merchant}`, event.id as string);
    expect(delivered.data).toEqual(event.data);
    await client.close();
  });

  it('a lone surrogate escape (not Unicode text, RFC 8259 section 8.2): 422 naming the field', async () => {
    const text = JSON.stringify(updated(freshKeys(), {}, { note: 'x' })).replace('"note":"x"', '"note":"a\\ud800b"');
    const answer = await postText('/v1/events', text);
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(errorFields(answer.body)).toEqual(['data.note']);
  });

  it('a charset other than UTF-8: 415', async () => {
    const answer = await rawPost(`${herald.url}/v1/events`, JSON.stringify(updated(freshKeys())), {
      'content-type': 'application/json; charset=iso-8859-1',
      authorization: `Bearer ${publisherToken()}`,
    });
    expectProblem(answer, 415, '/problems/unsupported-media-type');
  });
});

it('after all of the above, the node still serves a subscriber and a publisher', async () => {
  await expectStillServes(herald);
  // The channels of a refused event never received anything.
  const keys = freshKeys();
  const client = await subscriber(herald.wsUrl, channelsOf(keys));
  expectProblem(await postText('/v1/events', withRawExtra(updated(keys), nested(40))), 422, '/problems/invalid-event');
  const ok = updated(keys);
  expectAccepted(await publish(herald.url, ok));
  await eventOn(client, `merchant:${keys.merchant}`, ok.id as string);
  expect(client.events(`merchant:${keys.merchant}`).map((frame) => frame.id)).toEqual([ok.id]);
  await client.close();
});
