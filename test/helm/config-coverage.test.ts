/**
 * The chart and CONFIG_SCHEMA (packages/runtime/src/config-schema.ts) cannot drift:
 * - every variable has a chart value, declared in values.yaml and values.schema.json;
 * - set, each value reaches as that variable exactly the Deployments of the services
 *   that read it (per CONFIG_SCHEMA's `services`), as an env var or a Secret reference;
 * - the chart renders no variable CONFIG_SCHEMA does not know;
 * - the chart's defaults are CONFIG_SCHEMA's, except where an entry declares a
 *   `chartDefault` of its own and says why (JWT_REQUIRE_EXP only);
 * - the chart refuses a value exactly when the service would refuse it at start
 *   (loadConfig), probed with good and bad values of every kind.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  chartDir,
  ciValuesFiles,
  envOf,
  find,
  helm,
  helmBinary,
  mapLimit,
  only,
  parseManifests,
  render,
  resolveEnv,
  runtimeConfig,
  templateArgs,
  valuesFile,
  type Manifest,
  type RuntimeConfig,
} from '../support/helm.js';

type Service = 'edge' | 'ingest';
const SERVICES: readonly Service[] = ['edge', 'ingest'];

const PUBLIC_KEY = readFileSync(`${chartDir}/ci/redis-cluster.yaml`, 'utf8').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/)![0].replace(/\n\s+/g, '\n');

interface Entry {
  /** The chart value, as a dotted path in values.yaml. */
  path: string;
  /** A value different from the default, set when rendering variant A (HS256, one Redis)... */
  a?: unknown;
  /** ...or variant B (a public key, a Redis Cluster). */
  b?: unknown;
  /** Values probed against loadConfig besides those of the variable's kind. */
  probes?: unknown[];
  /** Other values set with each probe, and variables dropped from the base environment. */
  probeWith?: Record<string, unknown>;
  probeDrop?: string[];
  /**
   * A chart default that deliberately differs from CONFIG_SCHEMA's, and why. The default
   * check then expects this value in values.yaml and in the rendered environment instead
   * of CONFIG_SCHEMA's (and fails if it no longer differs). Every other entry defaults to
   * CONFIG_SCHEMA's: this is an exception to justify, not a way out of the check.
   */
  chartDefault?: { value: unknown; reason: string };
}

/** Chart value of each CONFIG_SCHEMA variable. */
const VALUES: Record<string, Entry> = {
  NODE_ID: { path: 'nodeId.fromPodName', a: true, b: true },
  LOG_LEVEL: { path: 'logLevel', a: 'debug', b: 'warn' },
  LOG_FORMAT: { path: 'logFormat', a: 'json', b: 'pretty' },
  HOST: { path: 'host', a: '::', b: '0.0.0.0', probes: ['127.0.0.1'] },
  PORT: { path: 'edge.port', a: 9090, b: 9090 },
  EDGE_WORKERS: { path: 'edge.workers', a: 2, b: 'auto', probes: [1, 64, 65, 0, 'auto', 'all', '2'] },
  INGEST_PORT: { path: 'ingest.port', a: 9091, b: 9091 },
  JWT_SECRET: { path: 'jwt.secret', a: 'coverage-secret-0123456789abcdef' },
  JWT_PUBLIC_KEY: { path: 'jwt.publicKey', b: PUBLIC_KEY, probes: [PUBLIC_KEY, 'not a pem'], probeWith: { 'jwt.secret': '' }, probeDrop: ['JWT_SECRET'] },
  JWT_ALGORITHMS: { path: 'jwt.algorithms', a: ['HS384', 'HS512'], b: ['ES256'], probes: [['HS256'], ['HS256', 'HS512'], ['RS256'], ['none'], ['hs256']] },
  JWT_ISSUER: { path: 'jwt.issuer', a: 'https://issuer.example/', b: 'https://issuer.example/', probes: ['https://auth.example.com/'] },
  JWT_AUDIENCE: { path: 'jwt.audience', a: 'herald-coverage', b: 'herald-coverage', probes: ['herald'] },
  JWT_REQUIRE_EXP: {
    path: 'jwt.requireExp',
    a: false,
    b: false,
    // The service's default stays false; a release deployed by the chart refuses tokens
    // without `exp`: a token that never expires can only be revoked by rotating the key.
    chartDefault: { value: true, reason: 'production releases refuse tokens that never expire' },
  },
  JWT_MAX_TTL: { path: 'jwt.maxTtl', a: '1h', b: '15m', probes: ['', '1000ms', '24h'] },
  INGEST_API_KEYS: { path: 'ingest.apiKeys', a: ['key-one', 'key-two'], b: ['key-three'], probes: [['k1'], ['k1', 'k2']] },
  ADMIN_API_KEYS: { path: 'ingest.adminApiKeys', a: ['admin-one', 'admin-two'], b: ['admin-three'], probes: [['a1'], ['a1', 'a2']] },
  REVOCATION_TTL: { path: 'ingest.revocationTtl', a: '12h', b: '30m', probes: ['1s', '999ms', '7d'] },
  ALLOWED_ORIGINS: { path: 'edge.allowedOrigins', a: ['https://a.example', 'https://b.example'], b: ['*'], probes: [['*'], ['https://a.example'], ['*', 'https://a.example']] },
  MAX_CONNECTIONS: { path: 'edge.maxConnections', a: 123456, b: 'unlimited' },
  MAX_CONNECTIONS_PER_USER: { path: 'edge.maxConnectionsPerUser', a: 7, b: 7 },
  // 'off' is refused by neither, but YAML 1.1 (helm) reads it unquoted as false: not probed.
  REBALANCE_THRESHOLD: { path: 'edge.rebalanceThreshold', a: 1.2, b: 1.5, probes: [1, 1.01, 1.2, 2, 10, 10.5, 0.5, -1, 0, '', 'on', 'auto'] },
  MAX_SUBSCRIPTIONS_PER_CONNECTION: { path: 'edge.maxSubscriptionsPerConnection', a: 250, b: 250 },
  MAX_COMMANDS_PER_SECOND: { path: 'edge.maxCommandsPerSecond', a: 75, b: 75 },
  MAX_HANDSHAKES_PER_IP_PER_SECOND: { path: 'edge.maxHandshakesPerIpPerSecond', a: 20, b: 'unlimited' },
  TRUSTED_PROXIES: {
    path: 'edge.trustedProxies',
    a: ['10.0.0.0/8', 'fd00::/8'],
    b: ['192.168.1.10'],
    probes: [['10.0.0.1'], ['10.0.0.0/8', 'fd00::/8'], ['::1', '::ffff:10.0.0.1'], ['10.0.0.0/33'], ['10.0.0.0/08'], ['010.0.0.1'], ['proxy.example'], ['fd00::/129'], ['256.0.0.1'], ['1::2::3']],
  },
  MAX_MESSAGE_SIZE: { path: 'edge.maxMessageSize', a: '128KiB', b: 131072 },
  MAX_BUFFERED_BYTES: { path: 'edge.maxBufferedBytes', a: '4MiB', b: '4MB' },
  WEBSOCKET_PING_INTERVAL: { path: 'edge.websocket.pingInterval', a: '20s', b: '20s' },
  WEBSOCKET_READ_TIMEOUT: { path: 'edge.websocket.readTimeout', a: '45s', b: '45s' },
  WEBSOCKET_WRITE_TIMEOUT: { path: 'edge.websocket.writeTimeout', a: '15s', b: '15s' },
  WEBSOCKET_COMPRESSION: { path: 'edge.websocket.compression', a: true, b: true },
  WEBSOCKET_COMPRESSION_THRESHOLD: { path: 'edge.websocket.compressionThreshold', a: '1KiB', b: 512 },
  SHUTDOWN_DRAIN_PERIOD: { path: 'shutdown.drainPeriod', a: '12s', b: '12s' },
  SHUTDOWN_TIMEOUT: { path: 'shutdown.timeout', a: '28s', b: '28s' },
  HISTORY_SIZE: { path: 'history.size', a: 2000, b: 2000 },
  HISTORY_TTL: { path: 'history.ttl', a: '15m', b: '15m' },
  HISTORY_META_TTL: { path: 'history.metaTtl', a: '7d', b: '7d' },
  IDEMPOTENCY_TTL: { path: 'ingest.idempotencyTtl', a: '12h', b: '12h' },
  INGEST_PUBLISH_TIMEOUT: { path: 'ingest.publishTimeout', a: '20s', b: '20s', probes: ['100ms', '99ms', '1m'] },
  INGEST_MAX_DEPTH: { path: 'input.maxDepth', a: 64, b: 16, probes: [32, 999, 1000, 1001] },
  ROUTES_FILE: { path: 'ingest.routesFile', a: '/etc/custom/routes.json', b: '/etc/custom/routes.json', probes: ['/etc/herald/routes.json'] },
  EVENT_SCHEMAS_DIR: { path: 'ingest.eventSchemasDir', a: '/etc/custom/schemas', b: '/etc/custom/schemas', probes: ['/etc/herald/schemas'] },
  MESSAGE_TYPES_FILE: { path: 'ingest.messageTypesFile', a: '/etc/custom/message-types.yaml', b: '/etc/custom/message-types.yaml', probes: ['/etc/herald/message-types.yaml'] },
  INGEST_STREAM_ENABLED: { path: 'ingest.stream.enabled', a: false, b: false },
  CONSOLE_ENABLED: { path: 'edge.console.enabled', a: true, b: true },
  CONSOLE_INGEST_URL: { path: 'edge.console.ingestUrl', a: 'https://ingest.example.com', b: 'http://10.0.0.5:8081', probes: ['https://ingest.example.com:8443', 'https://ingest.example.com/v1', 'ftp://ingest.example.com', 'ingest.example.com'] },
  CONSOLE_ORIGINS: { path: 'ingest.consoleOrigins', a: ['https://edge.example.com'], b: ['https://a.example', 'http://127.0.0.1:8080'], probes: [['https://a.example'], ['https://a.example/path'], ['a.example'], ['*']] },
  INGEST_STREAM_CLAIM_IDLE: { path: 'ingest.stream.claimIdle', a: '45s', b: '45s' },
  INGEST_STREAM_BATCH: { path: 'ingest.stream.batch', a: 250, b: 250 },
  REDIS_URL: { path: 'redis.url', a: 'redis://:pw@redis.example:6380/2', probes: ['redis://r:6379', 'rediss://r:6380/1', 'http://r:6379', 'redis:/r'] },
  REDIS_CLUSTER_NODES: {
    path: 'redis.clusterNodes',
    b: ['r0.example:7000', 'r1.example:7001'],
    probes: [['r0:6379'], ['r0:6379', 'r1:6380'], ['r0'], ['r0:port'], ['r 0:6379']],
    probeWith: { 'redis.url': '' },
    probeDrop: ['REDIS_URL'],
  },
  REDIS_PASSWORD: { path: 'redis.password', b: 'cluster-password', probes: ['pw'] },
  // TLS to Redis: variant B's cluster (one Redis takes rediss:// instead); the CA file
  // and name are probed with a rediss:// URL, as they are refused for a plaintext one.
  REDIS_TLS: { path: 'redis.tls.enabled', b: true },
  REDIS_TLS_CA_FILE: { path: 'redis.tls.caFile', b: '/etc/custom/redis-ca.pem', probes: ['/etc/herald/redis-tls/ca.crt'], probeWith: { 'redis.url': 'rediss://redis:6380' } },
  REDIS_TLS_SERVERNAME: { path: 'redis.tls.servername', b: 'redis.internal', probes: ['redis.example.com'], probeWith: { 'redis.url': 'rediss://redis:6380' } },
  REDIS_KEY_PREFIX: { path: 'redis.keyPrefix', a: 'herald-cov', b: 'herald.cov_2', probes: ['herald', 'a.b-c_d', 'has space', 'x'.repeat(64), 'x'.repeat(65), 'a:b'] },
  ADMISSION_LEASE_PERIOD: { path: 'edge.admission.leasePeriod', a: '20s', b: '30s' },
  ADMISSION_FALLBACK_PER_NODE: { path: 'edge.admission.fallbackPerNode', a: 500, b: 'unlimited', probes: [''] },
  // Paths in the container, like ROUTES_FILE; the chart sets them itself from tls.secretName.
  // They go together: each is probed with the other set.
  TLS_CERT_FILE: { path: 'tls.certFile', a: '/etc/custom/tls.crt', b: '/etc/custom/tls.crt', probes: ['/etc/herald/tls/tls.crt'], probeWith: { 'tls.keyFile': '/etc/custom/tls.key' } },
  TLS_KEY_FILE: { path: 'tls.keyFile', a: '/etc/custom/tls.key', b: '/etc/custom/tls.key', probes: ['/etc/herald/tls/tls.key'], probeWith: { 'tls.certFile': '/etc/custom/tls.crt' } },
};

/**
 * Variables the chart deliberately has no value for, and why. Each must exist in
 * CONFIG_SCHEMA, and the chart must never render it (checked below).
 */
const NOT_IN_CHART: Record<string, string> = {
  TLS: 'TLS=self-signed is for `herald start` only; edge and ingest refuse it, so a release takes tls.secretName or tls.certFile/keyFile',
};

/** Probes of each kind of CONFIG_SCHEMA: some good, some bad, some on the edges. */
const KIND_PROBES: Record<string, unknown[]> = {
  duration: ['0s', '99ms', '100ms', '999ms', '1s', '1.5s', '90s', '2h', '1d', '30 s', '10', '-1s', '1w'],
  size: ['0', '1', '127', '128', '1023', '1024', 65536, '64KiB', '1.5MiB', '1mib', '1 MiB', '2GB', '64 kilobytes', '-1'],
  integer: [0, 1, 100, 10000, 10001, -1, 1.5],
  'integer or unlimited': [0, 1, 5000, 'unlimited', 'none', -1],
  port: [1, 8080, 65535, 65536, -1],
  boolean: [true, false],
};

function setPath(target: Record<string, any>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  node[keys.at(-1)!] = value;
}

function getPath(source: unknown, path: string): unknown {
  return path.split('.').reduce<any>((node, key) => (node === undefined || node === null ? undefined : node[key]), source);
}

/** What the variable holds once the chart rendered a value: lists joined by commas. */
function envText(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(',') : String(value);
}

function variantValues(variant: 'a' | 'b'): Record<string, any> {
  const values: Record<string, any> = {};
  for (const entry of Object.values(VALUES)) if (entry[variant] !== undefined) setPath(values, entry.path, entry[variant]);
  return values;
}

/** The resolved environment of each Deployment; NODE_ID stands for a pod name. */
function environments(manifests: readonly Manifest[]): Record<Service, Record<string, string>> {
  const result = {} as Record<Service, Record<string, string>>;
  for (const service of SERVICES) {
    const env: Record<string, string> = {};
    for (const entry of envOf(only(manifests, 'Deployment', `-${service}`))) {
      env[entry.name] = entry.valueFrom?.fieldRef ? `herald-${service}-7d9f8b6c5-x2x4z` : resolveEnv(manifests, entry)!;
    }
    result[service] = env;
  }
  return result;
}

let runtime: RuntimeConfig;
let schemaNames: string[];
const DEFAULT = `${chartDir}/ci/default-values.yaml`;

beforeAll(async () => {
  helmBinary();
  runtime = await runtimeConfig();
  schemaNames = Object.keys(runtime.CONFIG_SCHEMA);
}, 240_000);

const spec = (name: string): { services: readonly Service[]; default: string | undefined; kind: string; secret?: boolean } =>
  (runtime.CONFIG_SCHEMA as Record<string, any>)[name];

describe('CONFIG_SCHEMA and the chart', () => {
  it('has a chart value for every variable, and none for a variable that does not exist', () => {
    expect([...Object.keys(VALUES), ...Object.keys(NOT_IN_CHART)].sort()).toEqual([...schemaNames].sort());
    for (const [name, reason] of Object.entries(NOT_IN_CHART)) expect(reason.trim(), `${name}: why the chart has no value for it`).not.toBe('');
  });

  it('declares each value in values.yaml and values.schema.json, described by its variable', () => {
    const values = parse(readFileSync(`${chartDir}/values.yaml`, 'utf8'));
    const schema = JSON.parse(readFileSync(`${chartDir}/values.schema.json`, 'utf8'));
    const schemaNode = (path: string): any => path.split('.').reduce<any>((node, key) => node?.properties?.[key], schema);
    for (const [name, entry] of Object.entries(VALUES)) {
      expect(getPath(values, entry.path), `values.yaml has ${entry.path} (${name})`).not.toBeUndefined();
      const node = schemaNode(entry.path);
      expect(node, `values.schema.json has ${entry.path}`).toBeDefined();
      expect(node.description, `values.schema.json describes ${entry.path} as ${name}`).toMatch(new RegExp(`^${name}: `));
    }
    // And no description names a variable at another place (a renamed value, a stale one).
    const described: Record<string, string> = {};
    const walk = (node: any, path: string[]): void => {
      const match = /^([A-Z][A-Z0-9_]+): /.exec(node?.description ?? '');
      if (match) described[match[1]!] = path.join('.');
      for (const [key, child] of Object.entries(node?.properties ?? {})) walk(child, [...path, key]);
    };
    walk(schema, []);
    expect(described).toEqual(Object.fromEntries(Object.entries(VALUES).map(([name, entry]) => [name, entry.path])));
  });

  it('passes each value, set, as its variable to exactly the services that read it', async () => {
    const checked = new Set<string>();
    for (const variant of ['a', 'b'] as const) {
      const manifests = await render({ valuesFiles: [valuesFile(variantValues(variant))] });
      const env = environments(manifests);
      const raw = Object.fromEntries(SERVICES.map((s) => [s, new Map(envOf(only(manifests, 'Deployment', `-${s}`)).map((e) => [e.name, e]))]));
      for (const [name, entry] of Object.entries(VALUES)) {
        const value = entry[variant];
        if (value === undefined) continue;
        checked.add(name);
        for (const service of SERVICES) {
          const where = `${name} (${entry.path}) in the ${service} Deployment, variant ${variant}`;
          if (!spec(name).services.includes(service)) {
            expect(env[service][name], `${where}: ${service} does not read it`).toBeUndefined();
            continue;
          }
          if (name === 'NODE_ID') {
            expect(raw[service]!.get(name)?.valueFrom?.fieldRef?.fieldPath, where).toBe('metadata.name');
            continue;
          }
          expect(env[service][name], where).toBe(envText(value));
          // Secrets are Secret references, never literal values in the pod spec.
          if (spec(name).secret) expect(raw[service]!.get(name)?.valueFrom?.secretKeyRef, `${where} comes from a Secret`).toBeDefined();
        }
      }
    }
    expect([...checked].sort()).toEqual(schemaNames.filter((name) => !(name in NOT_IN_CHART)).sort());
  });

  it('leaves NODE_ID to the service when nodeId.fromPodName is false', async () => {
    const manifests = await render({ valuesFiles: [DEFAULT], set: ['nodeId.fromPodName=false'] });
    for (const deployment of find(manifests, 'Deployment')) expect(envOf(deployment).map((e) => e.name)).not.toContain('NODE_ID');
  });

  it('renders no variable that CONFIG_SCHEMA does not know, nor one the service does not read', async () => {
    const files = [...ciValuesFiles(), valuesFile(variantValues('a')), valuesFile(variantValues('b'))];
    for (const file of files) {
      const values = parse(readFileSync(file, 'utf8')) ?? {};
      const manifests = await render({ valuesFiles: [file] });
      for (const service of SERVICES) {
        const extra = new Set(((getPath(values, `${service}.extraEnv`) as { name: string }[] | undefined) ?? []).map((e) => e.name));
        const names = envOf(only(manifests, 'Deployment', `-${service}`)).map((e) => e.name);
        expect(new Set(names).size, `${file}: no variable twice in ${service}`).toBe(names.length);
        for (const name of names.filter((n) => !extra.has(n))) {
          expect(schemaNames, `${file}: ${service} gets ${name}`).toContain(name);
          expect(Object.keys(NOT_IN_CHART), `${file}: ${service} gets ${name}, which the chart must not set`).not.toContain(name);
          expect(spec(name).services, `${file}: ${service} gets ${name}, which it does not read`).toContain(service);
        }
      }
    }
  });

  it('defaults every value to CONFIG_SCHEMA\'s default, or leaves it to the service, unless its entry says why not', async () => {
    const values = parse(readFileSync(`${chartDir}/values.yaml`, 'utf8'));
    const manifests = await render({ valuesFiles: [DEFAULT] });
    const env = environments(manifests);
    for (const [name, entry] of Object.entries(VALUES)) {
      if (name === 'NODE_ID' || spec(name).secret || name === 'REDIS_URL') continue;
      const chartDefault = getPath(values, entry.path);
      const schemaDefault = spec(name).default;
      if (entry.chartDefault) {
        // A declared exception: it has a reason, still differs from CONFIG_SCHEMA's default
        // (else the exception is stale), is what values.yaml says, and reaches the services.
        const expected = envText(entry.chartDefault.value);
        expect(entry.chartDefault.reason.trim(), `${name}: the chart default that differs says why`).not.toBe('');
        expect(expected, `${name}: chartDefault differs from CONFIG_SCHEMA's default (or drop it)`).not.toBe(schemaDefault);
        expect(chartDefault, `values.yaml ${entry.path} is the declared chart default of ${name}`).toEqual(entry.chartDefault.value);
        for (const service of spec(name).services) expect(env[service][name], `${name} in ${service}`).toBe(expected);
        continue;
      }
      const unset = chartDefault === '' || chartDefault === null || (Array.isArray(chartDefault) && chartDefault.length === 0);
      if (unset) {
        for (const service of SERVICES) expect(env[service][name], `${name} is left to the service`).toBeUndefined();
        continue;
      }
      expect(envText(chartDefault), `values.yaml ${entry.path} is CONFIG_SCHEMA's default of ${name}`).toBe(schemaDefault);
      for (const service of spec(name).services) expect(env[service][name], `${name} in ${service}`).toBe(schemaDefault);
    }
  });

  it('refuses a value exactly when the service would refuse it at start', async () => {
    const base = parse(readFileSync(DEFAULT, 'utf8'));
    const baseEnv = environments(await render({ valuesFiles: [DEFAULT] }));
    interface Probe {
      name: string;
      value: unknown;
    }
    const probes: Probe[] = [];
    for (const [name, entry] of Object.entries(VALUES)) {
      if (name === 'NODE_ID' || name === 'JWT_SECRET') continue; // a pod name; any text
      const values = [...(KIND_PROBES[spec(name).kind] ?? []), ...(entry.probes ?? [])];
      if (spec(name).kind.includes(' | ')) values.push(...spec(name).kind.split(' | '), 'verbose');
      expect(values.length, `${name} has probes`).toBeGreaterThan(0);
      for (const value of values) probes.push({ name, value });
    }
    const mismatches = await mapLimit(probes, 4, async ({ name, value }) => {
      const entry = VALUES[name]!;
      const values = structuredClone(base);
      for (const [path, extra] of Object.entries(entry.probeWith ?? {})) setPath(values, path, extra);
      setPath(values, entry.path, value);
      const result = await helm(templateArgs({ valuesFiles: [valuesFile(values)] }));
      const services = spec(name).services;
      if (result.code === 0) {
        // The chart took it: the services must start with what it rendered.
        const env = environments(parseManifests(result.stdout));
        for (const service of services) {
          const rendered = env[service][name];
          const expected = envText(value);
          if (rendered !== (expected === '' ? undefined : expected)) return `${name}=${JSON.stringify(value)}: the chart rendered ${JSON.stringify(rendered)} for ${service}`;
          try {
            runtime.loadConfig(env[service], [service]);
          } catch (error) {
            return `${name}=${JSON.stringify(value)}: the chart accepts it but ${service} refuses: ${(error as Error).message}`;
          }
        }
        return undefined;
      }
      // The chart refused it: so must at least one service, given the same setting.
      const refusals = services.map((service) => {
        const env = { ...baseEnv[service] };
        for (const drop of entry.probeDrop ?? []) delete env[drop];
        if (envText(value) === '') delete env[name];
        else env[name] = envText(value);
        try {
          runtime.loadConfig(env, [service]);
          return undefined;
        } catch (error) {
          return (error as Error).message;
        }
      });
      if (refusals.every((refusal) => refusal === undefined)) {
        return `${name}=${JSON.stringify(value)}: the services accept it but the chart refuses: ${result.stderr.trim().split('\n').slice(-2).join(' ')}`;
      }
      return undefined;
    });
    expect(mismatches.filter((m) => m !== undefined)).toEqual([]);
    expect(probes.length).toBeGreaterThan(250);
  }, 180_000);
});
