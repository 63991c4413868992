/**
 * `herald check [start|edge|ingest]...` (PROTOCOL.md section 13): the checks each
 * service makes at start, in the same order and with the same one-line errors (exit
 * 78), without connecting to anything: the variables (loadConfig), the message-type
 * registry and routes files, the TLS pair, and what each service requires beyond valid
 * values. Then it prints what would be served (check-report.ts).
 */
import { createLogger, loadConfig, readRedisCaFile, readTlsPair, type HeraldConfig, type Service, type TlsPair } from '@herald/runtime';
import { parseCommandArgs } from './args.js';
import { redisTls, renderReport, type CheckedMode } from './check-report.js';
import { checkRedisConfigured } from './components.js';
import { exitOnStartupError } from './errors.js';
import { usageError } from './help.js';
import { withConsoleDefault, type Mode } from './run.js';
import { checkEdgeRequirements, checkIngestRequirements, loadIngestDefinitions } from './services.js';

const MODES: readonly Mode[] = ['start', 'edge', 'ingest'];

export function checkCommand(args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const { positionals } = parseCommandArgs('check', args, {}, true);
  for (const mode of positionals) if (!MODES.includes(mode as Mode)) usageError('check', `unknown service "${mode}": start, edge or ingest`);
  const modes = positionals.length > 0 ? [...new Set(positionals as Mode[])] : defaultModes(env);
  const checked: CheckedMode[] = [];
  try {
    for (const mode of modes) checked.push(checkMode(mode, env));
  } catch (error) {
    exitOnStartupError(error);
  }
  process.stdout.write(renderReport(checked));
}

/** What an operator most likely runs with this environment: the Redis services, or the all-in-one. */
function defaultModes(env: NodeJS.ProcessEnv): Mode[] {
  return env.REDIS_URL || env.REDIS_CLUSTER_NODES ? ['edge', 'ingest'] : ['start'];
}

/** run.ts's start-up checks for one mode, in its order; throws what it would throw. */
function checkMode(mode: Mode, env: NodeJS.ProcessEnv): CheckedMode {
  const services: Service[] = mode === 'start' ? ['edge', 'ingest'] : [mode];
  const config: HeraldConfig = withConsoleDefault(mode, env, loadConfig(env, services));
  // `herald start` generates a secret when none is set: nothing to check then.
  const generatedSecret = mode === 'start' && config.JWT_SECRET === undefined && config.JWT_PUBLIC_KEY === undefined;
  // Files are read exactly as the services read them; their info logs are not wanted here.
  const definitions = mode === 'edge' ? undefined : loadIngestDefinitions(config, createLogger({ level: 'silent', node: 'check' }));
  let tls: TlsPair | undefined;
  if (config.TLS !== 'self-signed' && config.TLS_CERT_FILE !== undefined && config.TLS_KEY_FILE !== undefined) {
    tls = readTlsPair({ certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE });
  }
  if (mode !== 'start') {
    checkRedisConfigured(config);
    // As components-redis.ts does before any client exists: the CA file of Redis over TLS.
    if (redisTls(config) && config.REDIS_TLS_CA_FILE !== undefined) readRedisCaFile(config.REDIS_TLS_CA_FILE);
  }
  if (mode !== 'ingest' && !generatedSecret) checkEdgeRequirements(config);
  if (mode !== 'edge' && !generatedSecret) checkIngestRequirements(config);
  return { mode, config, generatedSecret, tls, definitions };
}
