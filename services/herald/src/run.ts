/**
 * Running a Herald process: `start` (edge and ingest on one port, in memory), `edge`
 * and `ingest` (separate services on Redis). Configuration is validated first; a bad
 * value ends the process with one line naming the variable.
 */
import type { Server } from 'node:http';
import { BrokerUnavailableError, type BrokerListener } from '@herald/broker';
import type { EdgeServer } from '@herald/edge';
import { consoleCors } from '@herald/ingest';
import {
  Counter,
  Gauge,
  Health,
  createLogger,
  createMetricsRegistry,
  defaultNodeId,
  installShutdown,
  loadConfig,
  type Environment,
  type Registry,
  type HeraldConfig,
  type Service,
} from '@herald/runtime';
import { selfSignedBanner, startBanner } from './banner.js';
import { checkRedisConfigured, memoryComponents, redisComponents, type Components } from './components.js';
import { StartupError } from './errors.js';
import { EdgeWorkerLink } from './edge-worker-link.js';
import { HttpsServer, closeServer, createServiceServer, listen, type RouteHandler } from './http-server.js';
import { prettyLogs } from './log-format.js';
import { buildEdge, buildIngest, checkEdgeRequirements, checkIngestRequirements, loadIngestDefinitions, type IngestParts, type ProcessContext } from './services.js';
import { discardTls, prepareTls, watchTls } from './tls-setup.js';
import { removeStartSecret, writeStartSecret } from './start-secret.js';
import { generateSecret } from './tokens.js';

export type Mode = 'start' | 'edge' | 'ingest';

/**
 * The console is part of the all-in-one experience: `herald start` turns it on unless
 * CONSOLE_ENABLED is set (`false` turns it off). `herald check` reports the same.
 */
export function withConsoleDefault(mode: Mode, env: Environment, config: HeraldConfig): HeraldConfig {
  return mode === 'start' && env.CONSOLE_ENABLED === undefined ? { ...config, CONSOLE_ENABLED: true } : config;
}

/** An ingest-only process subscribes to nothing; publications never reach it. */
const IGNORE_PUBLICATIONS: BrokerListener = { onPublication() {}, onDisconnected() {}, onResubscribed() {} };

export async function run(mode: Mode, env: Environment): Promise<void> {
  const services: Service[] = mode === 'start' ? ['edge', 'ingest'] : [mode];
  let config: HeraldConfig = loadConfig(env, services);
  let generatedSecret = false;
  if (mode === 'start' && config.JWT_SECRET === undefined && config.JWT_PUBLIC_KEY === undefined) {
    config = { ...config, JWT_SECRET: generateSecret() };
    generatedSecret = true;
  }
  config = withConsoleDefault(mode, env, config);
  const nodeId = config.NODE_ID ?? defaultNodeId();
  const logger = createLogger({ level: config.LOG_LEVEL, node: nodeId, pretty: prettyLogs(mode, config.LOG_FORMAT) });
  // Ingest's files (message types, routes) are read first: a bad one stops the start before anything connects.
  const ingestDefinitions = mode === 'edge' ? undefined : loadIngestDefinitions(config, logger);
  // So is the certificate: a missing file or a key of another certificate is exit 78.
  const tls = await prepareTls(config, logger);
  // The whole configuration is checked before anything connects (in herald check's order):
  // a missing key is exit 78 at once, not after a Redis client has tried to connect.
  if (mode !== 'start') checkRedisConfigured(config);
  if (mode !== 'ingest') checkEdgeRequirements(config);
  if (mode !== 'edge') checkIngestRequirements(config);
  const registry = createMetricsRegistry(nodeId);
  const health = new Health();
  const workerLink = mode === 'edge' ? EdgeWorkerLink.ifWorker(env, registry, health) : undefined;
  const components: Components = mode === 'start' ? memoryComponents(config) : await redisComponents(config, nodeId, logger, services);
  const context: ProcessContext = { config, nodeId, logger, registry, health, components };
  registerProcessMetrics(registry, components);

  const edge: EdgeServer | undefined = mode === 'ingest' ? undefined : buildEdge(context);
  const ingest: IngestParts | undefined = ingestDefinitions === undefined ? undefined : buildIngest(context, ingestDefinitions);
  try {
    if (edge) await edge.start();
    else {
      health.addCheck(() => (components.broker.state === 'ready' ? undefined : `broker ${components.broker.state}`));
      await components.broker.start(IGNORE_PUBLICATIONS);
    }
  } catch (error) {
    await components.close().catch(() => {});
    if (error instanceof BrokerUnavailableError) throw new StartupError(`cannot reach the broker: ${error.message}`);
    throw error;
  }
  if (ingest && components.startIngestStream) await components.startIngestStream(ingest.publisher);

  const servers: Server[] = [];
  const routes: RouteHandler[] = [];
  if (edge) routes.push((req, res, path) => edge.handleRequest(req, res, path));
  // Before the event API: a console on another origin (CONSOLE_ORIGINS) gets its CORS answers.
  if (ingest && config.CONSOLE_ORIGINS.length > 0) routes.push(consoleCors(config.CONSOLE_ORIGINS));
  if (ingest) routes.push((req, res, path) => ingest.server.handleRequest(req, res, path));
  if (ingest) routes.push((req, res, path) => ingest.admin.handleRequest(req, res, path));
  const makeServer = (withRoutes: RouteHandler[], withUpgrade: boolean): Server =>
    createServiceServer({
      health,
      registry,
      routes: withRoutes,
      logger,
      ...(workerLink ? { metricsText: () => workerLink.metrics() } : {}),
      ...(withUpgrade && edge ? { upgrade: (req, socket, head) => edge.handleUpgrade(req, socket, head) } : {}),
      ...(tls ? { tls: { cert: tls.pair.cert, key: tls.pair.key } } : {}),
    });

  const host = config.HOST ?? '0.0.0.0';
  const port = mode === 'ingest' ? config.INGEST_PORT : config.PORT;
  const server = makeServer(routes, edge !== undefined);
  let boundPort: number;
  try {
    boundPort = await listen(server, port, host);
  } catch (error) {
    throw new StartupError(`cannot listen on ${host}:${port}: ${(error as Error).message}`);
  }
  servers.push(server);
  const reloader = tls && server instanceof HttpsServer ? watchTls(server, tls, logger) : undefined;
  logger.info({ mode, host, port: boundPort, tls: tls !== undefined, broker: components.broker.kind, admission: components.admission.kind }, 'herald listening');
  const selfSignedCert = tls?.selfSigned ? tls.files.certFile : undefined;
  // A generated secret is kept for `herald token` while this server runs.
  const secretFile = generatedSecret ? writeStartSecret(config.JWT_SECRET!) : undefined;
  if (mode === 'start' && (generatedSecret || env.HERALD_PRINT_TOKENS === 'true')) {
    process.stdout.write(`${startBanner({ secret: config.JWT_SECRET!, host, port: boundPort, generated: generatedSecret, secretFile, tls: tls !== undefined, selfSignedCert, console: config.CONSOLE_ENABLED })}\n`);
  } else if (selfSignedCert !== undefined) {
    process.stdout.write(`${selfSignedBanner({ host, port: boundPort, cert: selfSignedCert })}\n`);
  }

  installShutdown({
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT,
    run: async () => {
      health.startDraining();
      reloader?.stop();
      if (edge) await edge.drain(config.SHUTDOWN_DRAIN_PERIOD);
      await Promise.all(servers.map((s) => closeServer(s)));
      discardTls(tls);
      if (secretFile !== undefined) removeStartSecret(config.JWT_SECRET!);
      if (edge) await edge.stop();
      else await components.broker.stop();
      await components.close();
    },
  });
}

/** Gauges about the shared parts, whichever services the process runs. */
function registerProcessMetrics(registry: Registry, components: Components): void {
  new Gauge({
    name: 'herald_broker_connected',
    help: '1 while the broker connection is ready',
    labelNames: ['engine'],
    registers: [registry],
    collect() {
      this.set({ engine: components.broker.kind }, components.broker.state === 'ready' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'herald_admission_degraded',
    help: '1 while the connection counter store is unreachable and the node admits alone',
    registers: [registry],
    collect() {
      this.set(components.admission.degradedReason() === undefined ? 0 : 1);
    },
  });
  new Counter({
    name: 'herald_admission_fallback_admissions_total',
    help: 'Connections admitted by this node alone while the connection counter store was unreachable',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(components.admission.fallbackAdmissions);
    },
  });
}
