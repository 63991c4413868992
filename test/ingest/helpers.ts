/**
 * Helpers shared by the ingest black-box tests: problem assertions, raw requests the
 * fetch helpers cannot make (no Content-Type, chunked bodies), WebSocket subscribers
 * on every channel of an event, and an ordering barrier that proves "exactly once"
 * without sleeping.
 */
import { expect } from 'vitest';
import { resultOf } from '../support/http.js';
import type { HttpAnswer } from '../support/ingest.js';
import { publish } from '../support/ingest.js';
import { clientToken, publisherToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';

export const MAX_BODY = 256 * 1024;
export const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ENVELOPE_KEYS = ['type', 'id', 'timestamp', 'channel', 'seq', 'data'];

/** A token that may subscribe to every channel the ingest tests publish to. */
export function subscriberToken(): string {
  return clientToken({ sub: 'ingest-tests', channels: ['merchant:*', 'payment:*', 'order:*', 'invoice:*', 'customer:*', 'psp:*'] });
}

let counter = 0;

/** A name unique to this test process, for ids and channel segments. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`;
}

export interface PaymentKeys {
  merchant: string;
  payment: string;
  order: string;
}

export function freshKeys(): PaymentKeys {
  return { merchant: unique('m'), payment: unique('pay'), order: unique('ord') };
}

export function created(keys: PaymentKeys, overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'payment.created',
    id: unique('evt'),
    data: { payment_id: keys.payment, order_id: keys.order, merchant_id: keys.merchant, amount: 10000, currency: 'EUR', status: 'pending', ...data },
    ...overrides,
  };
}

export function updated(keys: PaymentKeys, overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'payment.updated',
    id: unique('evt'),
    data: { payment_id: keys.payment, merchant_id: keys.merchant, status: 'captured', ...data },
    ...overrides,
  };
}

export function channelsOf(keys: PaymentKeys): string[] {
  return [`merchant:${keys.merchant}`, `payment:${keys.payment}`, `order:${keys.order}`];
}

/** Asserts an RFC 9457 problem document of the given status and type. */
export function expectProblem(answer: HttpAnswer, status: number, type: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.contentType?.split(';')[0]).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ type, status });
  expect(typeof answer.body.title).toBe('string');
  expect(answer.body.title.length).toBeGreaterThan(0);
  expect(typeof answer.body.detail).toBe('string');
  expect(answer.body.detail.length).toBeGreaterThan(0);
}

/** The field names of a validation problem's `errors` array. */
export function errorFields(problem: { errors?: unknown }): string[] {
  expect(Array.isArray(problem.errors), `errors array in ${JSON.stringify(problem)}`).toBe(true);
  return (problem.errors as Array<{ field: unknown }>).map((error) => {
    expect(typeof error.field).toBe('string');
    return error.field as string;
  });
}

/** Asserts a 202 answer and returns its body. */
export function expectAccepted(answer: HttpAnswer, duplicate = false): { id: string; channels: string[]; duplicate: boolean } {
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  expect(answer.contentType?.split(';')[0]).toBe('application/json');
  expect(Object.keys(answer.body).sort()).toEqual(['channels', 'duplicate', 'id']);
  expect(answer.body.duplicate).toBe(duplicate);
  expect(typeof answer.body.id).toBe('string');
  return answer.body;
}

/**
 * A POST made with node's fetch but with full control of the body and headers: a
 * Buffer body gets no Content-Type of its own; a ReadableStream body goes chunked.
 */
export async function rawPost(url: string, body: NonNullable<RequestInit['body']>, headers: Record<string, string>): Promise<HttpAnswer> {
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body };
  if (body instanceof ReadableStream) init.duplex = 'half';
  return resultOf(await fetch(url, init));
}

export async function request(method: string, url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return resultOf(await fetch(url, { method, headers: { authorization: `Bearer ${publisherToken()}`, ...headers } }));
}

/** A connected client subscribed to `channels` (optionally from a seq per channel). */
export async function subscriber(wsUrl: string, channels: string[], since: Record<string, string> = {}): Promise<TestClient> {
  const client = await TestClient.open(wsUrl, { token: subscriberToken() });
  for (const channel of channels) {
    const reply = await client.subscribe(channel, since[channel]);
    expect(reply.type, JSON.stringify(reply)).toBe('subscribed');
  }
  return client;
}

/** Resolves with the first frame matching `predicate`, already received or still to come. */
export function frameWhere(client: TestClient, predicate: (frame: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
  const seen = client.frames.find(predicate);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const onMessage = (): void => {
      // TestClient's own listener ran first and recorded the frame.
      const found = client.frames.find(predicate);
      if (!found) return;
      clearTimeout(timer);
      client.socket.off('message', onMessage);
      resolve(found);
    };
    const timer = setTimeout(() => {
      client.socket.off('message', onMessage);
      reject(new Error(`no matching frame within ${timeoutMs}ms; last frames ${JSON.stringify(client.frames.slice(-5))}`));
    }, timeoutMs);
    client.socket.on('message', onMessage);
  });
}

/** Resolves with the event `id` on `channel`. */
export function eventOn(client: TestClient, channel: string, id: string, timeoutMs?: number): Promise<Frame> {
  return frameWhere(client, (frame) => typeof frame.seq === 'string' && frame.channel === channel && frame.id === id, timeoutMs);
}

/** Every delivery of event `id` on `channel` so far. */
export function deliveries(client: TestClient, channel: string, id: string): Frame[] {
  return client.events(channel).filter((frame) => frame.id === id);
}

/**
 * Publishes a marker event to every channel of `keys` and waits until the client has it
 * on each. Events of one channel arrive in seq order, so once the marker is in, every
 * copy of anything published before it has arrived too: counting is then exact.
 * `channels`: those of the three the client is subscribed to.
 */
export async function barrier(baseUrl: string, client: TestClient, keys: PaymentKeys, channels = channelsOf(keys)): Promise<void> {
  const marker = updated(keys, {}, { order_id: keys.order, status: 'barrier' });
  const answer = await publish(baseUrl, marker);
  expectAccepted(answer);
  await Promise.all(channels.map((channel) => eventOn(client, channel, marker.id as string)));
}
