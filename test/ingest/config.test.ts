/**
 * PROTOCOL.md sections 7 and 8: "More types come from configuration files" (one JSON
 * Schema per type in EVENT_SCHEMAS_DIR, `<type>.json`) and "Routes are configurable"
 * (ROUTES_FILE). Bad ones stopping start-up: config-startup.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import type { TestClient } from '../support/ws-client.js';
import { created, errorFields, eventOn, expectAccepted, expectProblem, freshKeys, subscriber, unique } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'herald-ingest-config-'));
let count = 0;

/** A fresh directory under `root` holding `files` (name -> content; objects are JSON). */
function directory(files: Record<string, unknown>): string {
  const dir = join(root, `d${++count}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

function file(content: unknown): string {
  const path = join(root, `f${++count}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const refundSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['payment_id', 'merchant_id', 'refund_id', 'amount'],
  properties: {
    payment_id: { type: 'string' },
    merchant_id: { type: 'string' },
    refund_id: { type: 'string' },
    amount: { type: 'integer', minimum: 1 },
  },
};

const invoiceSchema = {
  type: 'object',
  required: ['invoice_id', 'customer_id'],
  properties: { invoice_id: { type: 'string' }, customer_id: { type: 'string' }, total: { type: 'integer' } },
};

const clients: TestClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  rmSync(root, { recursive: true, force: true });
});

describe('section 7: event types from EVENT_SCHEMAS_DIR', () => {
  let herald: HeraldProcess;

  beforeAll(async () => {
    const schemas = directory({ 'payment.refunded.json': refundSchema, 'invoice.paid.json': invoiceSchema, 'notes.txt': 'not a schema' });
    herald = await startHerald({ env: { EVENT_SCHEMAS_DIR: schemas } });
  });

  afterAll(async () => {
    await herald?.stop();
  });

  it('accepts a configured type, routes it by the default payment.* route and delivers it', async () => {
    const keys = freshKeys();
    const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`, `payment:${keys.payment}`]);
    clients.push(client);
    const event = { type: 'payment.refunded', id: unique('evt'), data: { payment_id: keys.payment, merchant_id: keys.merchant, refund_id: 'r_1', amount: 500 } };
    const body = expectAccepted(await publish(herald.url, event));
    expect(body.channels).toEqual([`merchant:${keys.merchant}`, `payment:${keys.payment}`]);
    const frame = await eventOn(client, `payment:${keys.payment}`, event.id);
    expect(frame).toMatchObject({ type: 'payment.refunded', data: event.data });
  });

  it('validates a configured type against its schema, naming each failing field', async () => {
    const keys = freshKeys();
    const answer = await publish(herald.url, { type: 'payment.refunded', data: { payment_id: keys.payment, merchant_id: keys.merchant, amount: 0 } });
    expectProblem(answer, 422, '/problems/validation-failed');
    expect([...errorFields(answer.body)].sort()).toEqual(['data.amount', 'data.refund_id']);
  });

  it('keeps the built-in types and still refuses unregistered ones', async () => {
    expectAccepted(await publish(herald.url, created(freshKeys())));
    expectProblem(await publish(herald.url, { ...created(freshKeys()), type: 'payment.disputed' }), 422, '/problems/unknown-event-type');
    // Only `.json` files are schemas.
    expectProblem(await publish(herald.url, { ...created(freshKeys()), type: 'notes' }), 422, '/problems/unknown-event-type');
  });
});

describe('section 7: routes from ROUTES_FILE', () => {
  let herald: HeraldProcess;

  beforeAll(async () => {
    const routes = file({
      routes: [
        { match: 'payment.*', channels: ['merchant:{data.merchant_id}', 'psp:{data.merchant_id}.{data.payment_id}'] },
        { match: 'invoice.paid', channels: ['invoice:{data.invoice_id}', 'customer:{data.customer_id}'] },
      ],
    });
    herald = await startHerald({ env: { ROUTES_FILE: routes, EVENT_SCHEMAS_DIR: directory({ 'invoice.paid.json': invoiceSchema }) } });
  });

  afterAll(async () => {
    await herald?.stop();
  });

  it('routes payment events by the configured routes instead of the defaults', async () => {
    const keys = freshKeys();
    const psp = `psp:${keys.merchant}.${keys.payment}`;
    const client = await subscriber(herald.wsUrl, [psp]);
    clients.push(client);
    const event = created(keys);
    const body = expectAccepted(await publish(herald.url, event));
    expect(body.channels).toEqual([`merchant:${keys.merchant}`, psp]);
    const frame = await eventOn(client, psp, event.id as string);
    expect(frame).toMatchObject({ type: 'payment.created', channel: psp, data: event.data });
  });

  it('routes a configured type to its own channels', async () => {
    const invoice = unique('inv');
    const customer = unique('cus');
    const client = await subscriber(herald.wsUrl, [`invoice:${invoice}`, `customer:${customer}`]);
    clients.push(client);
    const event = { type: 'invoice.paid', id: unique('evt'), data: { invoice_id: invoice, customer_id: customer, total: 100 } };
    const body = expectAccepted(await publish(herald.url, event));
    expect(body.channels).toEqual([`invoice:${invoice}`, `customer:${customer}`]);
    await eventOn(client, `invoice:${invoice}`, event.id);
    await eventOn(client, `customer:${customer}`, event.id);
  });

  it('refuses an event whose routing field cannot be part of a channel name', async () => {
    const answer = await publish(herald.url, { type: 'invoice.paid', data: { invoice_id: 'inv 1/2', customer_id: 'c_1' } });
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(errorFields(answer.body)).toEqual(['data.invoice_id']);
  });
});
