#!/usr/bin/env node
/**
 * The `herald` command.
 *   herald start     edge and ingest in one process, in-memory broker (development)
 *   herald edge      the WebSocket edge service (Redis)
 *   herald ingest    the ingest service (Redis)
 *   herald token     mint a token with JWT_SECRET: --sub, --channels a,b, --scope, --ttl
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig, parseDuration, readRedisCaFile, readTlsPair } from '@herald/runtime';
import { checkRedisConfigured } from './components.js';
import { runEdgePrimary } from './edge-primary.js';
import { exitOnStartupError } from './errors.js';
import { run, type Mode } from './run.js';
import { checkEdgeRequirements } from './services.js';
import { mintToken } from './tokens.js';

const USAGE = `Usage: herald <command>

Commands:
  start    edge and ingest in one process on one port, in-memory broker
  edge     the WebSocket edge service (needs REDIS_URL or REDIS_CLUSTER_NODES)
  ingest   the ingest service (needs REDIS_URL or REDIS_CLUSTER_NODES)
  token    print a token signed with JWT_SECRET
           --sub <id> --channels <a,b> [--scope events:publish] [--ttl 1h]
  version  print the version

Configuration comes from environment variables; see docs/operations.md.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function tokenCommand(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string', default: 'user' },
      channels: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
    },
  });
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

// `herald start | head`: a closed stdout must not crash the process (EPIPE).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const [command, ...rest] = process.argv.slice(2);
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
  case 'version':
  case '--version':
    process.stdout.write(`${version()}\n`);
    break;
  case undefined:
  case 'help':
  case '--help':
  case '-h':
    process.stdout.write(USAGE);
    break;
  default:
    process.stderr.write(`herald: unknown command "${command}"\n${USAGE}`);
    process.exit(2);
}
