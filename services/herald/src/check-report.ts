/**
 * What `herald check` prints for a valid configuration: per service, what it would
 * serve and with which limits, the routes and the registered message types. Secrets
 * are never printed: a key is counted, a Redis password masked.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_ROUTES, type RouteDefinition } from '@herald/ingest';
import { formatDuration, formatSize, jwtAlgorithms, type HeraldConfig, type TlsPair } from '@herald/runtime';
import type { Mode } from './run.js';
import type { IngestDefinitions } from './services.js';

export interface CheckedMode {
  mode: Mode;
  config: HeraldConfig;
  /** `herald start` without JWT_SECRET or JWT_PUBLIC_KEY: a secret is made at start. */
  generatedSecret: boolean;
  /** The TLS_CERT_FILE/TLS_KEY_FILE pair, read and checked. */
  tls: TlsPair | undefined;
  /** Registry and routes, for the services that run the ingest. */
  definitions: IngestDefinitions | undefined;
}

export function renderReport(checked: readonly CheckedMode[]): string {
  const names = checked.map((c) => `herald ${c.mode}`).join(', ');
  const lines = [`herald check: the configuration is valid for ${names}`];
  for (const item of checked) lines.push('', ...describeMode(item));
  return `${lines.join('\n')}\n`;
}

function describeMode(item: CheckedMode): string[] {
  const { mode, config } = item;
  const edge = mode !== 'ingest';
  const ingest = mode !== 'edge';
  const host = config.HOST;
  const port = mode === 'ingest' ? config.INGEST_PORT : config.PORT;
  const rows: Array<[string, string]> = [
    ['engine', engine(mode, config)],
    ['listens', `${host}:${port}${mode === 'start' ? ' (every route: /v1/ws and /v1/events)' : ''}, ${tlsText(item)}`],
    ['auth', authText(item)],
  ];
  if (edge) {
    rows.push(
      ['workers', mode === 'edge' ? String(config.EDGE_WORKERS) : '1'],
      ['connections', `${limit(config.MAX_CONNECTIONS)} in the cluster, ${limit(config.MAX_CONNECTIONS_PER_USER)} per user`],
      ['per connection', `${config.MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions, ${config.MAX_COMMANDS_PER_SECOND} commands/s, frames up to ${formatSize(config.MAX_MESSAGE_SIZE)}, ${formatSize(config.MAX_BUFFERED_BYTES)} unsent`],
      ['heartbeat', `ping every ${formatDuration(config.WEBSOCKET_PING_INTERVAL)}, read timeout ${formatDuration(config.WEBSOCKET_READ_TIMEOUT)}, write timeout ${formatDuration(config.WEBSOCKET_WRITE_TIMEOUT)}`],
      ['origins', config.ALLOWED_ORIGINS.length === 0 ? 'any' : config.ALLOWED_ORIGINS.join(', ')],
    );
  }
  rows.push(['console', consoleText(mode, config)]);
  rows.push(['history', `${config.HISTORY_SIZE} events per channel for ${formatDuration(config.HISTORY_TTL)}`]);
  if (ingest) rows.push(['idempotency', formatDuration(config.IDEMPOTENCY_TTL)]);
  rows.push(['shutdown', `drain over ${formatDuration(config.SHUTDOWN_DRAIN_PERIOD)}, exit within ${formatDuration(config.SHUTDOWN_TIMEOUT)}`]);
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = [`herald ${mode}`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)];
  if (ingest && item.definitions) lines.push(...routesLines(config), ...typesLines(item.definitions));
  return lines;
}

function engine(mode: Mode, config: HeraldConfig): string {
  if (mode === 'start') return 'memory (one process; nothing shared)';
  const how = [`key prefix ${config.REDIS_KEY_PREFIX}`, ...(redisTls(config) ? [`TLS${config.REDIS_TLS_CA_FILE === undefined ? '' : `, CA ${config.REDIS_TLS_CA_FILE}`}`] : [])].join(', ');
  if (config.REDIS_URL !== undefined) return `redis ${maskPassword(config.REDIS_URL)} (${how})`;
  return `redis cluster ${config.REDIS_CLUSTER_NODES.join(',')} (${how})`;
}

/** Redis over TLS: a rediss:// URL, or REDIS_TLS for cluster nodes (as components-redis.ts decides). */
export function redisTls(config: HeraldConfig): boolean {
  return config.REDIS_URL !== undefined ? /^rediss:\/\//i.test(config.REDIS_URL) : config.REDIS_TLS;
}

function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function tlsText(item: CheckedMode): string {
  if (item.config.TLS === 'self-signed') return 'TLS with a self-signed certificate for localhost made at start';
  if (item.tls === undefined) return 'no TLS';
  const certificate = item.tls.certificate;
  return `TLS ${item.config.TLS_CERT_FILE} (${certificate.subject.replace(/\n/g, ', ')}, valid to ${new Date(certificate.validTo).toISOString()})`;
}

function authText(item: CheckedMode): string {
  const { config } = item;
  const parts: string[] = [];
  if (item.generatedSecret) parts.push('JWT HS256 with a secret generated at start');
  else if (config.JWT_SECRET !== undefined || config.JWT_PUBLIC_KEY !== undefined) {
    const key = config.JWT_PUBLIC_KEY !== undefined ? 'JWT_PUBLIC_KEY' : 'JWT_SECRET';
    const claims = [
      config.JWT_ISSUER === undefined ? undefined : `iss ${config.JWT_ISSUER}`,
      config.JWT_AUDIENCE === undefined ? undefined : `aud ${config.JWT_AUDIENCE}`,
      config.JWT_REQUIRE_EXP ? 'exp required' : undefined,
      config.JWT_MAX_TTL === undefined ? undefined : `at most ${formatDuration(config.JWT_MAX_TTL)}`,
    ].filter((c) => c !== undefined);
    parts.push(`JWT ${jwtAlgorithms(config).join('/')} with ${key}${claims.length === 0 ? '' : ` (${claims.join(', ')})`}`);
  }
  if (item.mode !== 'edge' && config.INGEST_API_KEYS.length > 0) parts.push(`${config.INGEST_API_KEYS.length} ingest API key(s)`);
  return parts.join('; ');
}

/**
 * The web console: on the edge, whether /console is served (and the stats published)
 * and where its test form posts; on the ingest, the origins it answers CORS for.
 */
function consoleText(mode: Mode, config: HeraldConfig): string {
  const parts: string[] = [];
  if (mode !== 'ingest') {
    parts.push(
      config.CONSOLE_ENABLED
        ? `on at /console (stats on _herald:stats every second), test events posted to ${config.CONSOLE_INGEST_URL ?? 'this origin'}`
        : 'off',
    );
  }
  if (mode !== 'edge') {
    parts.push(config.CONSOLE_ORIGINS.length === 0 ? 'no CORS on /v1/events (CONSOLE_ORIGINS unset)' : `CORS on /v1/events for ${config.CONSOLE_ORIGINS.join(', ')}`);
  }
  return parts.join('; ');
}

function limit(value: number | null): string {
  return value === null ? 'unlimited' : String(value);
}

/** The routes as configured; ROUTES_FILE was read and checked already, so it parses. */
function routesLines(config: HeraldConfig): string[] {
  const routes: readonly RouteDefinition[] =
    config.ROUTES_FILE === undefined ? DEFAULT_ROUTES : (JSON.parse(readFileSync(config.ROUTES_FILE, 'utf8')) as { routes: RouteDefinition[] }).routes;
  const source = config.ROUTES_FILE === undefined ? 'default' : config.ROUTES_FILE;
  return [`  routes (${source}):`, ...routes.map((route) => `    ${route.match} -> ${route.channels.join(', ')}`)];
}

function typesLines(definitions: IngestDefinitions): string[] {
  const types = definitions.registry.types();
  return [
    `  message types (${types.length}):`,
    ...types.map((type) => {
      const description = definitions.registry.descriptionOf(type);
      return `    ${type}${description === undefined ? '' : `  ${description}`}`;
    }),
  ];
}
