/**
 * The API documents in docs/api are real contracts: the AsyncAPI 3.0 document parses
 * and validates with @asyncapi/parser, its herald.stats data schema is the edge's
 * NODE_STATS_SCHEMA, the OpenAPI 3.1 document validates, and real answers of a running
 * ingest match the response schemas and CORS headers it declares.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { NODE_STATS_SCHEMA } from '@herald/edge';
import { dereference, validate } from '@readme/openapi-parser';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from './support/herald.js';
import { adminToken } from './support/admin.js';
import { paymentCreated, post, publish, publishBatch } from './support/ingest.js';

const docs = (name: string) => fileURLToPath(new URL(`../docs/api/${name}`, import.meta.url));
const CONSOLE_ORIGIN = 'https://console.example.com';

describe('AsyncAPI document of the WebSocket API', () => {
  it('parses and validates with no errors', async () => {
    const { document, diagnostics } = await new Parser().parse(readFileSync(docs('asyncapi.yaml'), 'utf8'));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    const messages = document!.allMessages().all().map((m) => m.name());
    for (const name of ['connected', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'ping', 'pong', 'error', 'payment.created', 'payment.updated', 'herald.stats']) {
      expect(messages).toContain(name);
    }
  });

  it('describes herald.stats on _herald:stats with NODE_STATS_SCHEMA (descriptions aside) and a valid example', () => {
    const api = parseYaml(readFileSync(docs('asyncapi.yaml'), 'utf8')) as any;
    expect(api.channels.nodeStats['x-herald-channel']).toBe('_herald:stats');
    expect(withoutDescriptions(api.components.schemas.NodeStats)).toEqual(NODE_STATS_SCHEMA);
    const message = api.components.messages.heraldStats;
    expect(message.payload.allOf[1].properties).toMatchObject({ type: { const: 'herald.stats' }, channel: { const: '_herald:stats' } });
    const check = new Ajv({ strict: false, allErrors: true }).compile(NODE_STATS_SCHEMA);
    for (const example of message.examples) expect(check(example.payload.data), JSON.stringify(check.errors)).toBe(true);
  });
});

/** A JSON Schema without its `description` keywords (properties named so are kept). */
function withoutDescriptions(schema: unknown, inProperties = false): unknown {
  if (Array.isArray(schema)) return schema.map((item) => withoutDescriptions(item));
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => inProperties || key !== 'description')
      .map(([key, value]) => [key, withoutDescriptions(value, !inProperties && key === 'properties')]),
  );
}

describe('OpenAPI document of the ingest API', () => {
  let herald: HeraldProcess;
  let responseSchema: (path: string, status: number) => (body: unknown) => string[];

  beforeAll(async () => {
    herald = await startHerald({ env: { IDEMPOTENCY_TTL: '1h', CONSOLE_ORIGINS: CONSOLE_ORIGIN } });
    const api = (await dereference(docs('openapi.yaml'))) as any;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    responseSchema = (path, status) => {
      const responses = api.paths[path].post.responses;
      const response = responses[String(status)];
      if (!response) throw new Error(`the document declares no ${status} for ${path}`);
      const content = response.content['application/json'] ?? response.content['application/problem+json'];
      const check = ajv.compile(content.schema);
      return (body) => (check(body) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
    };
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('validates as OpenAPI 3.1', async () => {
    const result = await validate(docs('openapi.yaml'));
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it('describes every real answer of POST /v1/events', async () => {
    const cases = [
      await publish(herald.url, paymentCreated('m_doc')),
      await publish(herald.url, { type: 'payment.created', data: { merchant_id: 'm_doc' } }),
      await publish(herald.url, { type: 'refund.created', data: {} }),
      await publish(herald.url, '{"type":', {}),
      await publish(herald.url, paymentCreated('m_doc'), { 'content-type': 'text/plain' }),
      await publish(herald.url, paymentCreated('m_doc'), { authorization: 'Bearer nope' }),
      await post(`${herald.url}/v1/events`, 'x'.repeat(300 * 1024)),
    ];
    expect(cases.map((c) => c.status)).toEqual([202, 422, 422, 400, 415, 401, 413]);
    for (const answer of cases) {
      expect(responseSchema('/v1/events', answer.status)(answer.body), `status ${answer.status}: ${JSON.stringify(answer.body)}`).toEqual([]);
      if (answer.status >= 400) expect(answer.contentType).toContain('application/problem+json');
    }
  });

  it('describes every real answer of POST /v1/users/{sub}:disconnect', async () => {
    const admin = { authorization: `Bearer ${adminToken()}` };
    const url = `${herald.url}/v1/users/doc-user:disconnect`;
    const cases = [
      await post(url, {}, admin),
      await post(url, { revokeTokensIssuedBefore: new Date(Date.now() + 60_000).toISOString() }, admin),
      await post(url, '{"revokeTokensIssuedBefore":', admin),
      await post(url, {}),
      await post(url, {}, { authorization: 'Bearer nope' }),
    ];
    expect(cases.map((c) => c.status)).toEqual([202, 422, 400, 403, 401]);
    for (const answer of cases) {
      expect(responseSchema('/v1/users/{sub}:disconnect', answer.status)(answer.body), `status ${answer.status}: ${JSON.stringify(answer.body)}`).toEqual([]);
    }
  });

  it('describes the CORS answers for CONSOLE_ORIGINS: preflight headers, the echoed origin, nothing for other origins', async () => {
    const api = (await dereference(docs('openapi.yaml'))) as any;
    for (const path of ['/v1/events', '/v1/events:batch']) {
      const documented = api.paths[path].options.responses['204'].headers as Record<string, { schema: { const?: string } }>;
      const preflight = await fetch(`${herald.url}${path}`, { method: 'OPTIONS', headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(204);
      for (const [name, header] of Object.entries(documented)) {
        expect(preflight.headers.get(name), name).toBe(header.schema.const ?? CONSOLE_ORIGIN);
      }
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await fetch(`${herald.url}${path}`, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example.com' } });
      expect(other.status).toBe(405);
      expect(api.paths[path].options.responses['405']).toBeDefined();
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    }
    // The documented headers of a 202 and a 207, and an error's (so the page can read it).
    const answers = [
      await publish(herald.url, paymentCreated('m_doc'), { origin: CONSOLE_ORIGIN }),
      await publishBatch(herald.url, [paymentCreated('m_doc')], { origin: CONSOLE_ORIGIN }),
      await publish(herald.url, paymentCreated('m_doc'), { origin: CONSOLE_ORIGIN, authorization: 'Bearer nope' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([202, 207, 401]);
    expect(Object.keys(api.paths['/v1/events'].post.responses['202'].headers)).toEqual(['Access-Control-Allow-Origin', 'Vary']);
    expect(Object.keys(api.paths['/v1/events:batch'].post.responses['207'].headers)).toEqual(['Access-Control-Allow-Origin', 'Vary']);
    for (const answer of answers) {
      expect(answer.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
      expect(answer.headers.get('vary')).toBe('Origin');
    }
    const elsewhere = await fetch(`${herald.url}/v1/events`, { method: 'POST', headers: { origin: 'https://elsewhere.example.com', 'content-type': 'application/json' }, body: '{}' });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('describes the 207 of POST /v1/events:batch', async () => {
    const answer = await publishBatch(herald.url, [paymentCreated('m_doc'), { type: 'payment.created', data: {} }]);
    expect(answer.status).toBe(207);
    expect(responseSchema('/v1/events:batch', 207)(answer.body)).toEqual([]);
  });
});
