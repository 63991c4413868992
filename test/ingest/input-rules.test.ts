/**
 * PROTOCOL.md section 7: what a producer reads when an event or a batch body breaks the
 * ingest's rules (services/ingest/src/schemas.ts): the problem's `detail` and each
 * `errors` entry, in the order of checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { post, publishBatch } from '../support/ingest.js';
import { created, expectAccepted, expectProblem, freshKeys } from './helpers.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald();
});

afterAll(async () => {
  await herald?.stop();
});

describe('section 7: the envelope rules, as the producer reads them', () => {
  it('names unknown fields first, then type, id, timestamp and data, each with what it must be', async () => {
    const answer = await post(`${herald.url}/v1/events`, { note: 'x', type: '', id: 'evt 1', timestamp: '2026-02-30T10:00:00Z', data: [] });
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(answer.body.errors).toEqual([
      { field: 'note', message: 'is not allowed' },
      { field: 'type', message: 'must be a non-empty string' },
      { field: 'id', message: 'must be 1 to 128 letters, digits, "_", "-", "." or ":"' },
      { field: 'timestamp', message: 'must be an ISO 8601 date-time with a time zone' },
      { field: 'data', message: 'must be a JSON object' },
    ]);
    expect(answer.body.detail).toBe(answer.body.errors.map((e: { field: string; message: string }) => `${e.field} ${e.message}`).join('; '));
  });

  it('names the body when it is not an object, and missing fields as required', async () => {
    const array = await post(`${herald.url}/v1/events`, []);
    expect(array.body.errors).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
    const empty = await post(`${herald.url}/v1/events`, {});
    expect(empty.body.errors).toEqual([
      { field: 'type', message: 'is required' },
      { field: 'data', message: 'is required' },
    ]);
  });
});

describe('section 7: the batch body rules, as the producer reads them', () => {
  it('refuses a body that is not {"events": [...]}', async () => {
    for (const body of [{ events: {} }, [], { event: [] }]) {
      const answer = await post(`${herald.url}/v1/events:batch`, body);
      expectProblem(answer, 422, '/problems/validation-failed');
      expect(answer.body.detail).toBe('The body must be {"events": [...]}');
      expect(answer.body.errors).toEqual([{ field: 'events', message: 'must be an array of events' }]);
    }
  });

  it('refuses an empty batch before it looks at other fields', async () => {
    const answer = await post(`${herald.url}/v1/events:batch`, { events: [], extra: true });
    expect(answer.body.detail).toBe('A batch holds 1 to 500 events (got 0)');
    expect(answer.body.errors).toEqual([{ field: 'events', message: 'must hold 1 to 500 events' }]);
  });

  it('names each field besides events', async () => {
    const answer = await post(`${herald.url}/v1/events:batch`, { events: [created(freshKeys())], dryRun: true, source: 'x' });
    expectProblem(answer, 422, '/problems/validation-failed');
    expect(answer.body.detail).toBe('Unknown field(s): dryRun, source');
    expect(answer.body.errors).toEqual([
      { field: 'dryRun', message: 'is not allowed' },
      { field: 'source', message: 'is not allowed' },
    ]);
  });

  it('checks each event alone, naming it by its index', async () => {
    const answer = await publishBatch(herald.url, [created(freshKeys()), 7, { ...created(freshKeys()), extra: 1 }]);
    expect(answer.status).toBe(207);
    const [first, second, third] = answer.body.results;
    expect(first).toMatchObject({ status: 202 });
    expect(second).toMatchObject({ status: 422, errors: [{ field: 'events[1]', message: 'must be a JSON object' }] });
    expect(third).toMatchObject({ status: 422, errors: [{ field: 'events[2].extra', message: 'is not allowed' }] });
    expectAccepted(await post(`${herald.url}/v1/events`, created(freshKeys())));
  });
});
