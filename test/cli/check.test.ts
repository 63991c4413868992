/**
 * PROTOCOL.md section 13: `herald check` validates the configuration, the routes and
 * registry files and the TLS pair offline (Redis is never reached), prints what would
 * be served, and on error exits 78 with the very line the service prints (TLS files and
 * the Redis CA file included).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, runHerald } from '../support/herald.js';
import { createCa } from '../tls/pki.js';

const root = mkdtempSync(join(tmpdir(), 'herald-cli-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(root, name);
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
      schema: {type: object, required: [refund_id, merchant_id], properties: {refund_id: {type: string}, merchant_id: {type: string}}}
`;

const ROUTES = JSON.stringify({ routes: [{ match: 'refund.*', channels: ['merchant:{data.merchant_id}', 'refund:{data.refund_id}'] }, { match: 'payment.*', channels: ['merchant:{data.merchant_id}'] }] });

/** Nothing listens there: a check that tried to connect would fail or hang. */
const UNREACHABLE_REDIS = 'redis://:check-redis-password-42@127.0.0.1:9';

describe('herald check', () => {
  it('without Redis checks herald start and prints the defaults, the routes and the built-in types', async () => {
    const result = await runHerald(['check'], { JWT_SECRET: TEST_SECRET, MAX_CONNECTIONS: '5000' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const out = result.stdout;
    expect(out).toMatch(/^herald check: the configuration is valid for herald start\n/);
    expect(out).toMatch(/engine +memory/);
    expect(out).toMatch(/listens +127\.0\.0\.1:0 \(every route: \/v1\/ws and \/v1\/events\), no TLS/);
    expect(out).toMatch(/auth +JWT HS256 with JWT_SECRET/);
    expect(out).toMatch(/connections +5000 in the cluster, unlimited per user/);
    expect(out).toMatch(/per connection +100 subscriptions, 50 commands\/s, frames up to 64KiB, 1MiB unsent/);
    expect(out).toContain('routes (default):\n    payment.* -> merchant:{data.merchant_id}, payment:{data.payment_id}, order:{data.order_id}');
    expect(out).toMatch(/message types \(2\):\n {4}payment\.created .*\n {4}payment\.updated /);
    // The console is on by default in herald start, its form posting to the same origin.
    expect(out).toMatch(/\n {2}console +on at \/console \(stats on _herald:stats every second\), test events posted to this origin; no CORS on \/v1\/events \(CONSOLE_ORIGINS unset\)\n/);
    expect(out).not.toContain(TEST_SECRET);
    const off = await runHerald(['check'], { JWT_SECRET: TEST_SECRET, CONSOLE_ENABLED: 'false' });
    expect(off.stdout).toMatch(/\n {2}console +off; no CORS/);
  });

  it('with REDIS_URL checks edge and ingest offline: Redis, TLS, routes and message types from their files', async () => {
    const ca = await createCa();
    const leaf = await ca.issue('localhost');
    const env = {
      JWT_SECRET: TEST_SECRET,
      INGEST_API_KEYS: 'check-key-one-0123,check-key-two-4567',
      REDIS_URL: UNREACHABLE_REDIS,
      TLS_CERT_FILE: file('cert.pem', leaf.cert),
      TLS_KEY_FILE: file('key.pem', leaf.key),
      MESSAGE_TYPES_FILE: file('types.yaml', REFUNDS),
      ROUTES_FILE: file('routes.json', ROUTES),
      EDGE_WORKERS: '2',
      CONSOLE_ENABLED: 'true',
      CONSOLE_INGEST_URL: 'https://ingest.example.com',
      CONSOLE_ORIGINS: 'https://edge.example.com,https://edge2.example.com',
    };
    const result = await runHerald(['check'], env);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^herald check: the configuration is valid for herald edge, herald ingest\n/);
    expect(out).toContain('engine       redis redis://:***@127.0.0.1:9 (key prefix herald)');
    expect(out).toMatch(/herald edge\n[\s\S]*workers +2/);
    expect(out).toMatch(/TLS .*cert\.pem \(CN=localhost, valid to \d{4}-/);
    expect(out).toContain('2 ingest API key(s)');
    expect(out).toContain(`routes (${env.ROUTES_FILE}):\n    refund.* -> merchant:{data.merchant_id}, refund:{data.refund_id}\n    payment.* -> merchant:{data.merchant_id}`);
    expect(out).toMatch(/message types \(3\):[\s\S]*refund\.created {2}Refund created event/);
    // The console: served by the edge, posting to the ingest's origin, which allows the consoles' origins.
    expect(out).toMatch(/herald edge\n[\s\S]*\n {2}console +on at \/console .*, test events posted to https:\/\/ingest\.example\.com\n[\s\S]*herald ingest\n/);
    expect(out).toMatch(/herald ingest\n[\s\S]*\n {2}console +CORS on \/v1\/events for https:\/\/edge\.example\.com, https:\/\/edge2\.example\.com\n/);
    for (const secret of ['check-redis-password-42', 'check-key-one-0123', 'check-key-two-4567', TEST_SECRET]) expect(out).not.toContain(secret);
    // One service only: the ingest has no edge section.
    const ingestOnly = await runHerald(['check', 'ingest'], env);
    expect(ingestOnly.code).toBe(0);
    expect(ingestOnly.stdout).not.toContain('herald edge');
  });

  it.each([
    ['a bad value', 'start', { JWT_SECRET: TEST_SECRET, HISTORY_TTL: 'forever' }],
    ['a bad LOG_FORMAT', 'start', { LOG_FORMAT: 'xml' }],
    ['an edge without Redis', 'edge', { JWT_SECRET: TEST_SECRET }],
    ['an edge without a token key', 'edge', { REDIS_URL: UNREACHABLE_REDIS }],
    ['an ingest without producer credentials', 'ingest', { REDIS_URL: UNREACHABLE_REDIS }],
    ['a message-type file with a duplicate type', 'ingest', { JWT_SECRET: TEST_SECRET, REDIS_URL: UNREACHABLE_REDIS, MESSAGE_TYPES_FILE: join(root, 'dup.yaml') }],
    ['a routes file that is not one', 'start', { JWT_SECRET: TEST_SECRET, ROUTES_FILE: join(root, 'bad-routes.json') }],
    ['a missing Redis CA file', 'ingest', { JWT_SECRET: TEST_SECRET, REDIS_URL: 'rediss://127.0.0.1:9', REDIS_TLS_CA_FILE: join(root, 'none-ca.pem') }],
    ['a missing certificate', 'edge', { JWT_SECRET: TEST_SECRET, REDIS_URL: UNREACHABLE_REDIS, TLS_CERT_FILE: join(root, 'none.pem'), TLS_KEY_FILE: join(root, 'none-key.pem') }],
  ] as const)('%s: exit 78 with the line the service prints', async (_name, mode, env) => {
    writeFileSync(join(root, 'dup.yaml'), REFUNDS + REFUNDS.slice(REFUNDS.indexOf('    - name')));
    writeFileSync(join(root, 'bad-routes.json'), '{"routes": 7}');
    const checked = await runHerald(['check', mode], { ...env });
    const service = await runHerald([mode], { ...env }, 30_000);
    expect(service.code, service.stderr).toBe(78);
    expect(checked.code, checked.stderr).toBe(78);
    expect(checked.stdout).toBe('');
    const lines = checked.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^herald: invalid configuration: /);
    expect(checked.stderr).toBe(service.stderr);
  });

  it('an unknown service is a usage error (64)', async () => {
    const result = await runHerald(['check', 'proxy'], {});
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('herald check: unknown service "proxy": start, edge or ingest');
  });
});
