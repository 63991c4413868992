/**
 * Shared by the input-hardening tests: the check that a node still serves a legitimate
 * subscriber and publisher after an attack, and problem-document assertions for raw
 * answers.
 */
import { expect } from 'vitest';
import type { HeraldProcess } from '../support/herald.js';
import { publish } from '../support/ingest.js';
import type { RawAnswer } from '../support/raw-http.js';
import { created, eventOn, expectAccepted, freshKeys, subscriber } from '../ingest/helpers.js';

/** A subscriber connects and receives an event a publisher sends: the node still serves. */
export async function expectStillServes(herald: HeraldProcess): Promise<void> {
  const keys = freshKeys();
  const client = await subscriber(herald.wsUrl, [`merchant:${keys.merchant}`]);
  try {
    const event = created(keys);
    expectAccepted(await publish(herald.url, event));
    const delivered = await eventOn(client, `merchant:${keys.merchant}`, event.id as string);
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
