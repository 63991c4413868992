/**
 * Input hardening, property-based: random JSON values, deep nesting, extreme numbers,
 * odd Unicode and random headers sent to POST /v1/events and /v1/events:batch of a real
 * `herald start`. Whatever is sent:
 * - no answer is a 500;
 * - every non-2xx answer (and every failed batch item) is a documented problem type;
 * - every event answered 202 reaches a subscriber with `data` equal, after JSON
 *   parsing, to the `data` that was sent; and nothing else reaches it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import { publisherToken } from '../support/tokens.js';
import type { TestClient } from '../support/ws-client.js';
import { eventOn, expectAccepted, rawPost, subscriber, unique } from '../ingest/helpers.js';

/** What the ingest API may answer, besides 202 and 207 (PROTOCOL.md section 7, docs/protocol-notes.md). */
const DOCUMENTED = new Set([
  '/problems/invalid-json',
  '/problems/invalid-request',
  '/problems/unsupported-media-type',
  '/problems/payload-too-large',
  '/problems/validation-failed',
  '/problems/invalid-event',
  '/problems/unknown-event-type',
]);

let herald: HeraldProcess;
let client: TestClient;
const merchant = unique('m_prop');
const channel = `merchant:${merchant}`;
/** Event id -> `data` as sent (parsed), for every event answered 202 and not a duplicate. */
const accepted = new Map<string, unknown>();

beforeAll(async () => {
  herald = await startHerald();
  client = await subscriber(herald.wsUrl, [channel]);
});

afterAll(async () => {
  await client?.close();
  await herald?.stop();
});

const nestedText = (levels: number, leaf: string): string => `${'{"n":['.repeat(levels)}${leaf}${']}'.repeat(levels)}`;

/** Raw JSON text for one extra property of `data`: anything a producer might send. */
const extraText = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((text) => JSON.stringify(text)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('1e400', '-1e400', '9007199254740993', '1e30', '1e-400', '-0', '0.10000000000000000555', '123.456e-789', '5e-324', '9007199254740991', '1.5', '-2'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }).chain((levels) => fc.constantFrom(nestedText(levels, '1'))) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 3_000 }).map((levels) => nestedText(levels, '"deep"')) },
);

const identifier = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
);

/** One event as JSON text, and whether it may be accepted at all. */
const eventText = fc
  .record({
    type: fc.constantFrom('payment.updated', 'payment.created', 'payment.refunded'),
    paymentId: identifier,
    status: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('pending', 'captured', 'requires_action') }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) }),
    amount: fc.option(fc.oneof(fc.integer({ min: -10, max: 1_000_000 }), fc.constantFrom('1e400', '9007199254740993', '-0', '12.5')), { nil: undefined }),
    extras: fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), extraText, { maxKeys: 4 }),
  })
  .map(({ type, paymentId, status, amount, extras }) => {
    const id = unique('evt_prop');
    const members = [
      `"payment_id":${JSON.stringify(paymentId)}`,
      `"order_id":${JSON.stringify(`ord_${paymentId}`)}`,
      `"merchant_id":${JSON.stringify(merchant)}`,
      `"currency":"EUR"`,
      `"status":${JSON.stringify(status)}`,
    ];
    if (amount !== undefined) members.push(`"amount":${String(amount)}`);
    for (const [key, value] of Object.entries(extras)) members.push(`${JSON.stringify(`x_${key}`)}:${value}`);
    return { id, text: `{"type":${JSON.stringify(type)},"id":"${id}","data":{${members.join(',')}}}` };
  });

const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const headers = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'APPLICATION/JSON; charset=UTF-8', 'application/json;charset="utf-8"', 'text/plain', 'application/json; charset=latin1', 'application/jsonx'),
    'idempotency-key': printable,
    'x-anything': printable,
    accept: printable,
  },
  { requiredKeys: ['content-type'] },
);

interface Sent {
  id: string;
  text: string;
}

/** Records a 202 for `sent` (unless a duplicate), after checking the answer's shape. */
function record(sent: Sent, result: { status: number; id?: string; duplicate?: boolean }, idOverride: string | undefined): void {
  if (result.duplicate) return;
  const id = idOverride ?? sent.id;
  expect(result.id).toBe(id);
  accepted.set(id, (JSON.parse(sent.text) as { data: unknown }).data);
}

function expectDocumentedProblem(status: number, body: { type?: unknown; status?: unknown }): void {
  expect(status, JSON.stringify(body)).not.toBe(500);
  expect(DOCUMENTED.has(String(body.type)), `undocumented answer ${status} ${JSON.stringify(body)}`).toBe(true);
  expect(body.status).toBe(status);
}

const post = (path: string, body: string, extra: Record<string, string>) =>
  rawPost(`${herald.url}${path}`, body, { authorization: `Bearer ${publisherToken()}`, ...extra });

it('single events: no 500, only documented problems, and every 202 delivered exactly as sent', async () => {
  await fc.assert(
    fc.asyncProperty(eventText, headers, async (sent, extra) => {
      const answer = await post('/v1/events', sent.text, extra);
      if (answer.status === 202) {
        const key = extra['idempotency-key'];
        const trimmed = key?.trim();
        record(sent, answer.body, trimmed !== undefined && /^[A-Za-z0-9_.:-]{1,128}$/.test(trimmed) ? trimmed : undefined);
        return;
      }
      expect(answer.contentType?.split(';')[0]).toBe('application/problem+json');
      expectDocumentedProblem(answer.status, answer.body);
    }),
    { numRuns: 300 },
  );
}, 120_000);

it('batches: 207 with one documented result per event, and every 202 delivered exactly as sent', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(eventText, { minLength: 1, maxLength: 6 }), async (events) => {
      const answer = await post('/v1/events:batch', `{"events":[${events.map((e) => e.text).join(',')}]}`, { 'content-type': 'application/json' });
      if (answer.status !== 207) {
        // The body as a whole can fail only for what is outside every event.
        expectDocumentedProblem(answer.status, answer.body);
        return;
      }
      expect(answer.body.results).toHaveLength(events.length);
      events.forEach((sent, index) => {
        const result = answer.body.results[index];
        if (result.status === 202) record(sent, result, undefined);
        else expectDocumentedProblem(result.status, result);
      });
    }),
    { numRuns: 100 },
  );
}, 120_000);

it('the subscriber received exactly the accepted events, data equal to what was sent', async () => {
  expect(accepted.size).toBeGreaterThan(20);
  const marker = { type: 'payment.updated', id: unique('evt_marker'), data: { payment_id: 'marker', merchant_id: merchant, status: 'barrier' } };
  expectAccepted(await publish(herald.url, marker));
  await eventOn(client, channel, marker.id, 30_000);
  const delivered = client.events(channel).filter((frame) => frame.id !== marker.id);
  expect(new Set(delivered.map((frame) => frame.id)).size).toBe(delivered.length);
  expect(delivered.map((frame) => frame.id).sort()).toEqual([...accepted.keys()].sort());
  for (const frame of delivered) expect(frame.data, frame.id).toEqual(accepted.get(frame.id));
}, 60_000);
