#!/usr/bin/env node
/**
 * The `herald` command.
 *   herald start     edge and ingest in one process, in-memory broker (development)
 *   herald edge      the WebSocket edge service (Redis)
 *   herald ingest    the ingest service (Redis)
 *   herald token     mint a token with JWT_SECRET: --sub, --channels a,b, --scope, --ttl
 *   herald publish   publish events to the ingest API (cmd-publish.ts)
 *   herald tail      print channels' events, resuming across reconnects (cmd-tail.ts)
 *   herald check     validate the configuration offline (cmd-check.ts)
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { isValidChannel } from '@herald/protocol';
import { loadConfig, parseDuration, readRedisCaFile, readTlsPair } from '@herald/runtime';
import { parseCommandArgs } from './args.js';
import { checkRedisConfigured } from './components.js';
import { runEdgePrimary } from './edge-primary.js';
import { exitOnStartupError } from './errors.js';
import { EXIT_FAILURE, EXIT_USAGE, USAGE, commandUsage, usageError } from './help.js';
import { run, type Mode } from './run.js';
import { checkEdgeRequirements } from './services.js';
import { readStartSecret, startSecretPath } from './start-secret.js';
import { mintToken } from './tokens.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Scopes a Herald service reads: the ingest API's and its admin API's. */
const KNOWN_SCOPES = ['events:publish', 'admin'];

/** A `channels` grant as the edge reads it (PROTOCOL.md section 4): a name, or a prefix ending in `*`. */
function isValidGrant(grant: string): boolean {
  if (!grant.endsWith('*')) return isValidChannel(grant);
  const prefix = grant.slice(0, -1);
  // `*` alone, or a prefix that some valid channel name starts with.
  return prefix === '' || (!prefix.includes('*') && isValidChannel(`${prefix}x`));
}

function tokenCommand(args: string[]): void {
  const { values } = parseCommandArgs('token', args, {
    sub: { type: 'string' },
    channels: { type: 'string' },
    scope: { type: 'string' },
    ttl: { type: 'string', default: '1h' },
  }) as unknown as { values: { sub?: string; channels?: string; scope?: string; ttl: string } };
  if (values.sub === undefined || values.sub.trim() === '') usageError('token', '--sub is required: the user the token is for');
  const scopes = values.scope?.split(/[\s,]+/).filter((scope) => scope.length > 0) ?? [];
  const unknownScope = scopes.find((scope) => !KNOWN_SCOPES.includes(scope));
  if (unknownScope !== undefined) usageError('token', `unknown scope "${unknownScope}" (known: ${KNOWN_SCOPES.join(', ')})`);
  const channels = values.channels?.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  // A client token needs its channels; a producer's or an operator's token has a scope instead.
  if (channels === undefined || channels.length === 0) {
    if (scopes.length === 0) usageError('token', '--channels is required (names or prefixes ending in *), unless --scope is given');
  } else {
    const bad = channels.find((channel) => !isValidGrant(channel));
    if (bad !== undefined) usageError('token', `"${bad}" is not a channel name or a prefix ending in * (PROTOCOL.md section 4)`);
  }
  const secret = process.env.JWT_SECRET ?? readStartSecret();
  if (!secret) usageError('token', `JWT_SECRET must be set (or a running herald start's generated secret in ${startSecretPath()})`);
  const ttlMs = parseDuration(values.ttl);
  if (ttlMs === undefined) usageError('token', '--ttl must be a duration such as 30s, 10m or 1h');
  process.stdout.write(
    `${mintToken(secret, {
      sub: values.sub,
      ...(channels && channels.length > 0 ? { channels } : {}),
      ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
      ttlSeconds: Math.max(1, Math.round(ttlMs / 1000)),
      ...(process.env.JWT_ISSUER ? { issuer: process.env.JWT_ISSUER } : {}),
      ...(process.env.JWT_AUDIENCE ? { audience: process.env.JWT_AUDIENCE } : {}),
    })}\n`,
  );
}

/** An operator command's unexpected failure: one line, exit 1 (usage errors exit 64 before this). */
function commandFailed(name: string): (error: unknown) => void {
  return (error) => {
    process.stderr.write(`herald ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_FAILURE);
  };
}

// `herald start | head`: a closed stdout must not crash the process (EPIPE).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const [command, ...rest] = process.argv.slice(2);
// The services take no arguments: `herald start --help` describes instead of starting,
// anything else is a usage error rather than silently ignored.
if (command === 'start' || command === 'edge' || command === 'ingest') parseCommandArgs(command, rest, {});
switch (command) {
  case 'edge':
    // EDGE_WORKERS above 1: this process supervises workers that each run `herald edge`.
    try {
      const config = cluster.isPrimary ? loadConfig(process.env, ['edge']) : undefined;
      if (config !== undefined && config.EDGE_WORKERS > 1) {
        // Refuse here what every worker would refuse, rather than restart them in a loop.
        checkEdgeRequirements(config);
        checkRedisConfigured(config);
        if (config.TLS_CERT_FILE !== undefined && config.TLS_KEY_FILE !== undefined) readTlsPair({ certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE });
        if (config.REDIS_TLS_CA_FILE !== undefined) readRedisCaFile(config.REDIS_TLS_CA_FILE);
        runEdgePrimary(config);
      }
      else run('edge', process.env).catch(exitOnStartupError);
    } catch (error) {
      exitOnStartupError(error);
    }
    break;
  case 'start':
  case 'ingest':
    run(command as Mode, process.env).catch(exitOnStartupError);
    break;
  case 'token':
    tokenCommand(rest);
    break;
  case 'publish':
    import('./cmd-publish.js').then((m) => m.publishCommand(rest)).catch(commandFailed('publish'));
    break;
  case 'tail':
    import('./cmd-tail.js').then((m) => m.tailCommand(rest)).catch(commandFailed('tail'));
    break;
  case 'check':
    import('./cmd-check.js').then((m) => m.checkCommand(rest)).catch(commandFailed('check'));
    break;
  case 'version':
  case '--version':
    process.stdout.write(`${version()}\n`);
    break;
  case undefined:
  case '--help':
  case '-h':
    process.stdout.write(USAGE);
    break;
  case 'help':
    process.stdout.write(commandUsage(rest[0] ?? ''));
    break;
  default:
    process.stderr.write(`herald: unknown command "${command}"\n\n${USAGE}`);
    process.exit(EXIT_USAGE);
}
