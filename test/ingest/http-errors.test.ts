/**
 * PROTOCOL.md sections 1 and 7, request-level errors of the ingest API: media type (415),
 * JSON (400), size (413, over 256 KiB, declared or streamed), method (405) and version
 * (404). Every error is an RFC 9457 problem document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { post, publish } from '../support/ingest.js';
import { publisherToken } from '../support/tokens.js';
import { MAX_BODY, created, expectAccepted, expectProblem, freshKeys, rawPost, request } from './helpers.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald();
});

afterAll(async () => {
  await herald?.stop();
});

const auth = (): Record<string, string> => ({ authorization: `Bearer ${publisherToken()}` });

/** A valid event padded with trailing whitespace (still valid JSON) to exactly `size` bytes. */
function paddedEvent(size: number): { event: Record<string, unknown>; body: string } {
  const event = created(freshKeys());
  const json = JSON.stringify(event);
  expect(json.length).toBeLessThan(size);
  return { event, body: json + ' '.repeat(size - json.length) };
}

/** A body streamed in chunks without Content-Length (Transfer-Encoding: chunked). */
function chunked(text: string, chunkSize = 16 * 1024): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

describe('section 7: 415 unsupported media type', () => {
  it('refuses text/plain', async () => {
    const answer = await rawPost(`${herald.url}/v1/events`, JSON.stringify(created(freshKeys())), { ...auth(), 'content-type': 'text/plain' });
    expectProblem(answer, 415, '/problems/unsupported-media-type');
  });

  it('refuses a request without Content-Type', async () => {
    // A Buffer body makes fetch send no Content-Type at all.
    const answer = await rawPost(`${herald.url}/v1/events`, Buffer.from(JSON.stringify(created(freshKeys()))), auth());
    expectProblem(answer, 415, '/problems/unsupported-media-type');
  });

  it('refuses other JSON-looking media types and form posts', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/xml', 'text/json', 'application/jsonx']) {
      const answer = await rawPost(`${herald.url}/v1/events`, JSON.stringify(created(freshKeys())), { ...auth(), 'content-type': type });
      expectProblem(answer, 415, '/problems/unsupported-media-type');
    }
  });

  it('refuses a non-JSON media type on the batch endpoint', async () => {
    const answer = await rawPost(`${herald.url}/v1/events:batch`, JSON.stringify({ events: [created(freshKeys())] }), { ...auth(), 'content-type': 'text/plain' });
    expectProblem(answer, 415, '/problems/unsupported-media-type');
  });

  it('accepts application/json with parameters and in any case', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']) {
      const answer = await rawPost(`${herald.url}/v1/events`, JSON.stringify(created(freshKeys())), { ...auth(), 'content-type': type });
      expectAccepted(answer);
    }
  });
});

describe('section 7: 400 invalid JSON', () => {
  it('refuses a malformed body', async () => {
    for (const body of ['{"type":"payment.created",', '{type: "payment.created"}', "{'a':1}", 'payment', '{"a":1}}']) {
      expectProblem(await post(`${herald.url}/v1/events`, body), 400, '/problems/invalid-json');
    }
  });

  it('refuses an empty body', async () => {
    expectProblem(await post(`${herald.url}/v1/events`, ''), 400, '/problems/invalid-json');
  });

  it('refuses a malformed batch body', async () => {
    expectProblem(await post(`${herald.url}/v1/events:batch`, '{"events":[{"type":'), 400, '/problems/invalid-json');
  });
});

describe('section 7: 413 payload too large (over 256 KiB)', () => {
  it('accepts a body of exactly 256 KiB', async () => {
    const { body } = paddedEvent(MAX_BODY);
    expect(Buffer.byteLength(body)).toBe(MAX_BODY);
    expectAccepted(await post(`${herald.url}/v1/events`, body));
  });

  it('refuses a body one byte over 256 KiB, declared by Content-Length', async () => {
    const { event, body } = paddedEvent(MAX_BODY + 1);
    expectProblem(await post(`${herald.url}/v1/events`, body), 413, '/problems/payload-too-large');
    // Nothing was published: the same event, small, is new.
    expectAccepted(await publish(herald.url, event));
  });

  it('refuses a large body sent chunked, without Content-Length', async () => {
    const { event, body } = paddedEvent(MAX_BODY * 2);
    const answer = await rawPost(`${herald.url}/v1/events`, chunked(body), { ...auth(), 'content-type': 'application/json' });
    expectProblem(answer, 413, '/problems/payload-too-large');
    expectAccepted(await publish(herald.url, event));
  });

  it('counts a chunked body: one byte over 256 KiB is refused, exactly 256 KiB is not', async () => {
    const over = paddedEvent(MAX_BODY + 1);
    const refused = await rawPost(`${herald.url}/v1/events`, chunked(over.body, 1000), { ...auth(), 'content-type': 'application/json' });
    expectProblem(refused, 413, '/problems/payload-too-large');
    const exact = paddedEvent(MAX_BODY);
    expectAccepted(await rawPost(`${herald.url}/v1/events`, chunked(exact.body, 1000), { ...auth(), 'content-type': 'application/json' }));
  });

  it('refuses a very large body and keeps serving', async () => {
    const answer = await post(`${herald.url}/v1/events`, 'x'.repeat(8 * 1024 * 1024));
    expectProblem(answer, 413, '/problems/payload-too-large');
    expectAccepted(await publish(herald.url, created(freshKeys())));
  });
});

describe('sections 1 and 7: methods and versions', () => {
  it('answers 405 with a problem for GET on /v1/events and /v1/events:batch', async () => {
    for (const path of ['/v1/events', '/v1/events:batch']) {
      const answer = await request('GET', `${herald.url}${path}`);
      expect(answer.status).toBe(405);
      expect(answer.contentType?.split(';')[0]).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ status: 405, type: expect.stringMatching(/^\/problems\//), title: expect.any(String) });
      expect(answer.headers.get('allow')).toContain('POST');
    }
  });

  it('answers 405 for PUT, DELETE and PATCH on /v1/events', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const answer = await request(method, `${herald.url}/v1/events`);
      expect(answer.status).toBe(405);
      expect(answer.body).toMatchObject({ status: 405 });
    }
  });

  it('answers 404 with a problem for any other version', async () => {
    for (const path of ['/v2/events', '/v2/events:batch', '/v0/events']) {
      const answer = await post(`${herald.url}${path}`, created(freshKeys()));
      expect(answer.status).toBe(404);
      expect(answer.contentType?.split(';')[0]).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ status: 404, type: expect.stringMatching(/^\/problems\//), title: expect.any(String) });
    }
  });
});
