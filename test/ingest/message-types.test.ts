/**
 * PROTOCOL.md section 10: MESSAGE_TYPES_FILE, the message-type registry file. `herald
 * start` reads YAML documents of kind WebSocketMessageType: their types are accepted,
 * validated by their schemas and delivered; a type listed replaces the built-in one of
 * the same name. Every error stops the start (exit 78) with one line naming the file,
 * the document and the type.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, runHerald, startHerald, type HeraldProcess } from '../support/herald.js';
import { publish, publishBatch } from '../support/ingest.js';
import type { TestClient } from '../support/ws-client.js';
import { created, errorFields, eventOn, expectAccepted, expectProblem, freshKeys, subscriber, unique } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'herald-message-types-'));
let count = 0;

function file(text: string, extension = 'yaml'): string {
  const path = join(root, `f${++count}.${extension}`);
  writeFileSync(path, text);
  return path;
}

const REFUNDS = `apiVersion: api.example.com/v1
kind: WebSocketMessageType
metadata:
  name: refund-types
spec:
  types:
    - name: refund.created
      description: Refund created event
      schema: {type: object, required: [refund_id, merchant_id], properties: {refund_id: {type: string}, merchant_id: {type: string}, amount: {type: integer, minimum: 1}}}
`;

const OVERRIDES = `# payment.updated now carries the reason of the change.
apiVersion: api.example.com/v1
kind: WebSocketMessageType
metadata:
  name: payment-overrides
spec:
  types:
    - name: payment.updated
      description: A payment changed, and why
      schema:
        $schema: https://json-schema.org/draft/2020-12/schema
        type: object
        required: [payment_id, merchant_id, status, reason]
        properties:
          payment_id: {type: string, pattern: "^[A-Za-z0-9_.-]+$"}
          merchant_id: {type: string, pattern: "^[A-Za-z0-9_.-]+$"}
          status: {type: string}
          reason: {type: string, enum: [customer_request, fraud, expired]}
`;

const clients: TestClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  rmSync(root, { recursive: true, force: true });
});

describe('section 10: types from MESSAGE_TYPES_FILE', () => {
  let herald: HeraldProcess;

  beforeAll(async () => {
    const routes = file(
      JSON.stringify({
        routes: [
          { match: 'payment.*', channels: ['merchant:{data.merchant_id}', 'payment:{data.payment_id}'] },
          { match: 'refund.*', channels: ['merchant:{data.merchant_id}'] },
        ],
      }),
      'json',
    );
    herald = await startHerald({ env: { MESSAGE_TYPES_FILE: file(`${REFUNDS}---\n${OVERRIDES}`), ROUTES_FILE: routes } });
  });

  afterAll(async () => {
    await herald?.stop();
  });

  it('says what it loaded', async () => {
    const record = await herald.waitForLog((r) => r.msg === 'message types loaded');
    expect(record).toMatchObject({ types: ['refund.created', 'payment.updated'], replaced: ['payment.updated'] });
  });

  it('accepts a type of the file, validates it by its schema and delivers it', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`]);
    clients.push(client);
    const refund = { type: 'refund.created', id: unique('evt'), data: { refund_id: unique('ref'), merchant_id: keys.merchant, amount: 250 } };
    expect(expectAccepted(await publish(herald.url, refund)).channels).toEqual([`merchant:${keys.merchant}`]);
    const frame = await eventOn(client, `merchant:${keys.merchant}`, refund.id);
    expect(frame).toMatchObject({ type: 'refund.created', id: refund.id, data: refund.data });

    const bad = await publish(herald.url, { type: 'refund.created', data: { merchant_id: keys.merchant, amount: 0 } });
    expectProblem(bad, 422, '/problems/validation-failed');
    expect([...errorFields(bad.body)].sort()).toEqual(['data.amount', 'data.refund_id']);
  });

  it('validates payment.updated by the schema that replaced the built-in one', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`payment:${keys.payment}`]);
    clients.push(client);
    const base = { payment_id: keys.payment, merchant_id: keys.merchant, status: 'refunded' };
    // Valid for the built-in schema, not for the file's: `reason` is required now.
    const missing = await publish(herald.url, { type: 'payment.updated', data: base });
    expectProblem(missing, 422, '/problems/validation-failed');
    expect(errorFields(missing.body)).toEqual(['data.reason']);
    const unknownReason = await publish(herald.url, { type: 'payment.updated', data: { ...base, reason: 'boredom' } });
    expectProblem(unknownReason, 422, '/problems/validation-failed');
    expect(errorFields(unknownReason.body)).toEqual(['data.reason']);

    const event = { type: 'payment.updated', id: unique('evt'), data: { ...base, reason: 'customer_request' } };
    expectAccepted(await publish(herald.url, event));
    expect(await eventOn(client, `payment:${keys.payment}`, event.id)).toMatchObject({ type: 'payment.updated', data: event.data });
  });

  it('keeps the other built-in type and still refuses types nobody registered', async () => {
    expectAccepted(await publish(herald.url, created(freshKeys())));
    expectProblem(await publish(herald.url, { type: 'refund.failed', data: { refund_id: 'r', merchant_id: 'm' } }), 422, '/problems/unknown-event-type');
  });

  it('applies the same schemas in a batch', async () => {
    const keys = freshKeys();
    const answer = await publishBatch(herald.url, [
      { type: 'refund.created', data: { refund_id: unique('ref'), merchant_id: keys.merchant } },
      { type: 'refund.created', data: { refund_id: 42, merchant_id: keys.merchant } },
      { type: 'payment.updated', data: { payment_id: keys.payment, merchant_id: keys.merchant, status: 'paid' } },
    ]);
    expect(answer.status).toBe(207);
    const [first, second, third] = answer.body.results;
    expect(first).toMatchObject({ status: 202, channels: [`merchant:${keys.merchant}`] });
    expect(second).toMatchObject({ status: 422, type: '/problems/validation-failed' });
    expect(errorFields(second)).toEqual(['events[1].data.refund_id']);
    expect(errorFields(third)).toEqual(['events[2].data.reason']);
  });
});

describe('section 10: a bad MESSAGE_TYPES_FILE stops the start with one line naming the file, document and type', () => {
  async function startupLine(text: string | undefined, mode: 'start' | 'ingest' = 'start', env: Record<string, string> = {}): Promise<string> {
    const path = text === undefined ? join(root, 'missing.yaml') : file(text);
    // Generous: a process that exits at once still needs to load; CI machines can be busy.
    const result = await runHerald([mode], { JWT_SECRET: TEST_SECRET, MESSAGE_TYPES_FILE: path, ...env }, 30_000);
    expect(result.code, result.stderr).toBe(78);
    expect(result.stdout).not.toContain('herald listening');
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]!.startsWith(`herald: invalid configuration: MESSAGE_TYPES_FILE: `), lines[0]).toBe(true);
    return lines[0]!.replace('herald: invalid configuration: MESSAGE_TYPES_FILE: ', '').replace(path, '<file>');
  }

  it.each([
    ['a file that is not YAML', `${REFUNDS}---\nkind: [WebSocketMessageType\n`, '<file>:12:1: document 2: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a key twice', REFUNDS.replace('kind: WebSocketMessageType\n', 'kind: WebSocketMessageType\nkind: WebSocketMessageType\n'), '<file>:3:1: document 1: not valid YAML: Map keys must be unique'],
    ['a wrong kind', `${REFUNDS}---\n${OVERRIDES.replace('kind: WebSocketMessageType', 'kind: ConfigMap')}`, '<file>:13: document 2 "payment-overrides": kind must be "WebSocketMessageType" (got "ConfigMap")'],
    ['a wrong apiVersion', REFUNDS.replace('api.example.com/v1', 'api.example.com/v2'), '<file>:1: document 1 "refund-types": apiVersion must be "api.example.com/v1" (got "api.example.com/v2")'],
    ['a type without description', REFUNDS.replace('      description: Refund created event\n', ''), '<file>:7: document 1 "refund-types": type "refund.created": spec.types[0].description is required'],
    ['a type without schema', `${REFUNDS}---\n${OVERRIDES.replace(/ {6}schema:[\s\S]*/, '')}`, '<file>:18: document 2 "payment-overrides": type "payment.updated": spec.types[0].schema is required'],
    ['a document without metadata.name', REFUNDS.replace('metadata:\n  name: refund-types\n', 'metadata: {}\n'), '<file>:3: document 1: metadata.name is required'],
    ['a type name listed twice in one document', REFUNDS + REFUNDS.slice(REFUNDS.indexOf('    - name')), '<file>:10: document 1 "refund-types": type "refund.created": listed twice, first in document 1 "refund-types" at line 7'],
    ['a type name listed in two documents', `${OVERRIDES}---\n${OVERRIDES.replace('payment-overrides', 'more-overrides')}`, '<file>:27: document 2 "more-overrides": type "payment.updated": listed twice, first in document 1 "payment-overrides" at line 8'],
    ['an invalid type name', REFUNDS.replace('name: refund.created', 'name: refund/created'), '<file>:7: document 1 "refund-types": type "refund/created": spec.types[0].name must be an event type name: dot-separated parts of letters, digits, "_" or "-", at most 100 characters'],
  ])('%s', async (_name, text, line) => {
    expect(await startupLine(text)).toBe(line);
  });

  it('a schema that does not compile', async () => {
    expect(await startupLine(`${REFUNDS}---\n${OVERRIDES.replace('enum: [customer_request', 'enum: 7, x: [customer_request')}`)).toMatch(
      /^<file>:20: document 2 "payment-overrides": type "payment\.updated": schema does not compile: .*enum/,
    );
  });

  it('a file that is empty, or missing', async () => {
    expect(await startupLine('# no documents\n')).toBe('<file>: holds no WebSocketMessageType document');
    expect(await startupLine(undefined)).toMatch(/^cannot read <file>: ENOENT: no such file or directory/);
  });

  it('is read by `herald ingest` before it connects to Redis', async () => {
    // Nothing listens on port 1: the file is refused before any connection is tried.
    const line = await startupLine(REFUNDS.replace('kind: WebSocketMessageType', 'kind: Other'), 'ingest', { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(line).toBe('<file>:2: document 1 "refund-types": kind must be "WebSocketMessageType" (got "Other")');
  });
});
