/**
 * Builds the edge and ingest services from configuration and components.
 */
import { EdgeServer, edgeOptionsFromConfig } from '@herald/edge';
import {
  AdminAuthenticator,
  AdminRoutes,
  DEFAULT_ROUTES,
  EventPublisher,
  IngestAuthenticator,
  IngestMetrics,
  IngestServer,
  Router,
  RoutesError,
} from '@herald/ingest';
import { MessageTypeRegistry, RegistryError } from '@herald/protocol/registry';
import { ConfigError, jwtVerification, type HeraldConfig, type Health, type Logger, type Registry } from '@herald/runtime';
import type { Components } from './components.js';

export interface ProcessContext {
  config: HeraldConfig;
  nodeId: string;
  logger: Logger;
  registry: Registry;
  health: Health;
  components: Components;
}

/** What an edge needs beyond valid values: a key for tokens. */
export function checkEdgeRequirements(config: HeraldConfig): void {
  if (config.JWT_SECRET === undefined && config.JWT_PUBLIC_KEY === undefined) {
    throw new ConfigError('JWT_SECRET', 'JWT_SECRET or JWT_PUBLIC_KEY is required to verify client tokens');
  }
}

/** What an ingest needs beyond valid values: a way to authenticate producers. */
export function checkIngestRequirements(config: HeraldConfig): void {
  if (config.JWT_SECRET === undefined && config.JWT_PUBLIC_KEY === undefined && config.INGEST_API_KEYS.length === 0) {
    throw new ConfigError('INGEST_API_KEYS', 'INGEST_API_KEYS or JWT_SECRET/JWT_PUBLIC_KEY is required to authenticate producers');
  }
}

export function buildEdge(context: ProcessContext): EdgeServer {
  const { config } = context;
  checkEdgeRequirements(config);
  return new EdgeServer({
    options: edgeOptionsFromConfig(config, context.nodeId),
    broker: context.components.broker,
    admission: context.components.admission,
    revocations: context.components.revocations,
    logger: context.logger,
    registry: context.registry,
    health: context.health,
  });
}

export interface IngestParts {
  server: IngestServer;
  /** POST /v1/users/{sub}:disconnect (PROTOCOL.md section 11). */
  admin: AdminRoutes;
  publisher: EventPublisher;
  registry: MessageTypeRegistry;
}

/** What ingest reads from files: the message-type registry and the routes. */
export interface IngestDefinitions {
  registry: MessageTypeRegistry;
  router: Router;
}

/**
 * The registry (built-in types, then EVENT_SCHEMAS_DIR, then MESSAGE_TYPES_FILE) and the
 * routes. A bad file is a ConfigError naming its variable, before anything connects.
 */
export function loadIngestDefinitions(config: HeraldConfig, logger: Logger): IngestDefinitions {
  const registry = MessageTypeRegistry.withBuiltins();
  if (config.EVENT_SCHEMAS_DIR !== undefined) {
    try {
      const loaded = registry.loadDirectory(config.EVENT_SCHEMAS_DIR);
      logger.info({ types: loaded }, 'event schemas loaded');
    } catch (error) {
      if (error instanceof RegistryError) throw new ConfigError('EVENT_SCHEMAS_DIR', `EVENT_SCHEMAS_DIR: ${error.message}`);
      throw error;
    }
  }
  if (config.MESSAGE_TYPES_FILE !== undefined) {
    try {
      const loaded = registry.loadFile(config.MESSAGE_TYPES_FILE);
      logger.info({ file: config.MESSAGE_TYPES_FILE, types: loaded.types, replaced: loaded.replacedBuiltins }, 'message types loaded');
    } catch (error) {
      if (error instanceof RegistryError) throw new ConfigError('MESSAGE_TYPES_FILE', `MESSAGE_TYPES_FILE: ${error.message}`);
      throw error;
    }
  }
  let router: Router;
  try {
    router = config.ROUTES_FILE !== undefined ? Router.fromFile(config.ROUTES_FILE) : new Router(DEFAULT_ROUTES);
  } catch (error) {
    if (error instanceof RoutesError) throw new ConfigError('ROUTES_FILE', `ROUTES_FILE: ${error.message}`);
    throw error;
  }
  return { registry, router };
}

export function buildIngest(context: ProcessContext, definitions: IngestDefinitions = loadIngestDefinitions(context.config, context.logger)): IngestParts {
  const { config, logger } = context;
  checkIngestRequirements(config);
  const hasJwt = config.JWT_SECRET !== undefined || config.JWT_PUBLIC_KEY !== undefined;
  const { registry, router } = definitions;
  const auth = new IngestAuthenticator({
    apiKeys: config.INGEST_API_KEYS,
    ...(hasJwt ? { jwt: jwtVerification(config) } : {}),
  });
  const metrics = new IngestMetrics(context.registry);
  const publisher = new EventPublisher(context.components.broker, registry, router, metrics, logger.child({ service: 'ingest' }));
  const admin = new AdminRoutes({
    auth: new AdminAuthenticator({ adminKeys: config.ADMIN_API_KEYS, publishKeys: config.INGEST_API_KEYS, ...(hasJwt ? { jwt: jwtVerification(config) } : {}) }),
    revocations: context.components.revocations,
    revocationTtlMs: config.REVOCATION_TTL,
    logger,
  });
  return { server: new IngestServer({ publisher, auth, logger, maxDepth: config.INGEST_MAX_DEPTH }), admin, publisher, registry };
}
