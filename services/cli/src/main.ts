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
import { loadConfig, parseDuration, readRedisCaFile, readTlsPair } from '@herald/runtime';
import { parseCommandArgs } from './args.js';
import { checkRedisConfigured } from './components.js';
import { runEdgePrimary } from './edge-primary.js';
import { exitOnStartupError } from './errors.js';
import { EXIT_FAILURE, USAGE, commandUsage } from './help.js';
import { run, type Mode } from './run.js';
import { checkEdgeRequirements } from './services.js';
import { mintToken } from './tokens.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function tokenCommand(args: string[]): void {
  const { values } = parseCommandArgs('token', args, {
    sub: { type: 'string', default: 'user' },
    channels: { type: 'string' },
    scope: { type: 'string' },
    ttl: { type: 'string', default: '1h' },
  }) as unknown as { values: { sub: string; channels?: string; scope?: string; ttl: string } };
  const secret = process.env.JWT_SECRET;
  if (!secret) {
    process.stderr.write('herald token: JWT_SECRET must be set\n');
    process.exit(2);
  }
  const ttlMs = parseDuration(values.ttl);
  if (ttlMs === undefined) {
    process.stderr.write('herald token: --ttl must be a duration such as 30s, 10m or 1h\n');
    process.exit(2);
  }
  const channels = values.channels?.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  process.stdout.write(
    `${mintToken(secret, {
      sub: values.sub,
      ...(channels ? { channels } : {}),
      ...(values.scope ? { scope: values.scope } : {}),
      ttlSeconds: Math.max(1, Math.round(ttlMs / 1000)),
      ...(process.env.JWT_ISSUER ? { issuer: process.env.JWT_ISSUER } : {}),
      ...(process.env.JWT_AUDIENCE ? { audience: process.env.JWT_AUDIENCE } : {}),
    })}\n`,
  );
}

/** An operator command's unexpected failure: one line, exit 1 (usage errors exit 2 before this). */
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
// The services take no arguments: `herald start --help` describes instead of starting.
if ((command === 'start' || command === 'edge' || command === 'ingest') && (rest.includes('--help') || rest.includes('-h'))) {
  process.stdout.write(commandUsage(command));
  process.exit(0);
}
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
    process.stderr.write(`herald: unknown command "${command}"\n${USAGE}`);
    process.exit(2);
}
