/**
 * PROTOCOL.md section 1: the HTTP endpoints of `herald start` (one port for every
 * route), and the problem documents of HTTP errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { httpGet, mediaTypeOf } from '../support/http.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, refusedHandshake } from '../support/ws-client.js';

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({ waitReady: true });
});

afterAll(async () => {
  await herald?.stop();
});

function expectProblem(answer: { status: number; contentType: string | null | undefined; body: any }, status: number, type: string): void {
  expect(answer.status).toBe(status);
  expect(mediaTypeOf(answer.contentType)).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ type, status, title: expect.any(String), detail: expect.any(String) });
}

describe('section 1: endpoints', () => {
  it('GET /healthz answers 200 while the event loop runs', async () => {
    const answer = await httpGet(`${herald.url}/healthz`);
    expect(answer.status).toBe(200);
  });

  it('GET /readyz answers 200 when the broker is connected and the node is not draining', async () => {
    const answer = await httpGet(`${herald.url}/readyz`);
    expect(answer.status).toBe(200);
  });

  it('GET /metrics answers Prometheus text format', async () => {
    const answer = await httpGet(`${herald.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(mediaTypeOf(answer.contentType)).toBe('text/plain');
    expect(answer.contentType).toContain('version=0.0.4');
    // Every non-comment line is `name{labels} value`; there are HELP and TYPE lines.
    const lines = answer.text.split('\n').filter((line) => line.length > 0);
    expect(lines.some((line) => line.startsWith('# HELP '))).toBe(true);
    expect(lines.some((line) => line.startsWith('# TYPE '))).toBe(true);
    for (const line of lines.filter((l) => !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfNa]+$/);
    }
    expect(answer.text).toMatch(/^herald_edge_connections(\{.*\})? \d+$/m);
  });

  it('the WebSocket endpoint and the ingest API share the one port of `herald start`', async () => {
    const client = await TestClient.open(herald.wsUrl, { token: clientToken() });
    const ingest = await httpGet(`${herald.url}/v1/events`);
    // Not a 404: the route exists on this port (GET is not its method).
    expect(ingest.status).not.toBe(404);
    await client.close();
  });

  it('a plain GET /v2/ws answers 404 with a problem document', async () => {
    const answer = await httpGet(`${herald.url}/v2/ws`);
    expectProblem(answer, 404, '/problems/not-found');
  });

  it('a WebSocket upgrade on /v2/ws answers 404 with a problem document and no upgrade', async () => {
    const refused = await refusedHandshake(herald.wsUrl.replace('/v1/ws', '/v2/ws'), { token: clientToken(), protocols: 'v1.json' });
    expectProblem(refused, 404, '/problems/not-found');
  });

  it('an unknown path answers 404 with a problem document', async () => {
    expectProblem(await httpGet(`${herald.url}/nope`), 404, '/problems/not-found');
    const refused = await refusedHandshake(`ws://127.0.0.1:${herald.port}/ws`, { token: clientToken() });
    expectProblem(refused, 404, '/problems/not-found');
  });
});

describe('section 1: /readyz while draining', () => {
  it('answers 503 with a problem body as soon as SIGTERM arrives, while /healthz stays 200', async () => {
    const draining = await startHerald({ waitReady: true, env: { SHUTDOWN_DRAIN_PERIOD: '1s', SHUTDOWN_TIMEOUT: '5s' } });
    try {
      // A connection keeps the drain going for its whole period.
      const client = await TestClient.open(draining.wsUrl, { token: clientToken() });
      expect((await httpGet(`${draining.url}/readyz`)).status).toBe(200);
      draining.child.kill('SIGTERM');
      await draining.waitForLog((record) => record.msg === 'shutting down');
      const ready = await httpGet(`${draining.url}/readyz`);
      expectProblem(ready, 503, ready.body.type);
      expect(ready.body.type).toMatch(/^\/problems\//);
      expect((await httpGet(`${draining.url}/healthz`)).status).toBe(200);
      expect((await client.closed).code).toBe(1001);
      expect((await draining.exited).code).toBe(0);
    } finally {
      await draining.stop('SIGKILL');
    }
  });
});
