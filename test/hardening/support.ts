/**
 * Shared by the input-hardening and security tests: the check that a node (or an edge
 * and an ingest) still serves a legitimate subscriber and publisher after an attack,
 * and problem-document assertions for raw answers.
 */
import { expect } from 'vitest';
import type { HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import type { RawAnswer } from '../support/raw-http.js';
import { TestClient } from '../support/ws-client.js';
import { created, eventOn, expectAccepted, freshKeys, subscriber } from '../ingest/helpers.js';

/** Where a legitimate client connects (`wsUrl`, an edge) and publishes (`url`, an ingest). */
export interface ServeTarget {
  wsUrl: string;
  url: string;
}

export interface ServeOptions {
  /** The subscriber's token for a channel (default: subscriberToken()). */
  token?: (channel: string) => string;
  /** Headers of the publish request (default: a publisher token). */
  publishHeaders?: Record<string, string>;
}

/** A subscriber connects and receives an event a publisher sends: the node still serves. */
export async function expectStillServes(target: ServeTarget | HeraldProcess, options: ServeOptions = {}): Promise<void> {
  const keys = freshKeys();
  const channel = `merchant:${keys.merchant}`;
  const client = options.token === undefined ? await subscriber(target.wsUrl, [channel]) : await TestClient.open(target.wsUrl, { token: options.token(channel) });
  try {
    if (options.token !== undefined) expect((await client.subscribe(channel)).type).toBe('subscribed');
    const event = created(keys);
    expectAccepted(await publish(target.url, event, options.publishHeaders));
    const delivered = await eventOn(client, channel, event.id as string);
    expect(delivered.data).toEqual(event.data);
  } finally {
    await client.close();
  }
}

/** A raw answer is an RFC 9457 problem document of `status` and `type`, and the connection closed. */
export function expectRawProblem(answer: RawAnswer, status: number, type: string): void {
  expect(answer.status, `${answer.status} ${answer.body.slice(0, 200)}`).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.json).toMatchObject({ type, status, title: expect.any(String), detail: expect.any(String) });
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  expect(answer.closed, 'the server closed the connection').toBe(true);
}
