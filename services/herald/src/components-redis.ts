/**
 * Wiring of the Redis engines (`herald edge`, `herald ingest`): the broker, the
 * connection counter and the ingest stream, each with the clients it needs, all made
 * by the one client factory of @herald/redis (`createRedisClient`, options by role).
 */
import { MemoryAdmission, UNLIMITED } from '@herald/admission';
import { RedisAdmission } from '@herald/admission/redis';
import { createRedisBroker } from '@herald/broker/redis';
import { StreamConsumer, type EventPublisher } from '@herald/ingest';
import { DEFAULT_KEY_PREFIX, closeClient, createRedisClient, whenReady, type ClientRole, type RedisClient, type RedisConnectionOptions, type RedisTlsOptions } from '@herald/redis';
import { readRedisCaFile, type HeraldConfig, type Logger, type Service } from '@herald/runtime';
import { admissionLimits, retentionSettings, type Components } from './component-parts.js';
import { createRedisRevocations } from './revocations-redis.js';

/**
 * Where Redis is and how it is reached, for every client of this process: broker,
 * admission and ingest stream alike. The CA file is read here, before any client
 * exists: a bad one is a ConfigError naming REDIS_TLS_CA_FILE (exit 78).
 */
function connectionOf(config: HeraldConfig): RedisConnectionOptions {
  const tlsAsked = config.REDIS_URL !== undefined ? /^rediss:\/\//i.test(config.REDIS_URL) : config.REDIS_TLS;
  const tls: RedisTlsOptions | undefined = tlsAsked
    ? {
        ...(config.REDIS_TLS_CA_FILE !== undefined ? { ca: readRedisCaFile(config.REDIS_TLS_CA_FILE) } : {}),
        ...(config.REDIS_TLS_SERVERNAME !== undefined ? { servername: config.REDIS_TLS_SERVERNAME } : {}),
      }
    : undefined;
  if (config.REDIS_URL !== undefined) return { url: config.REDIS_URL, ...(tls !== undefined ? { tls } : {}) };
  return {
    clusterNodes: config.REDIS_CLUSTER_NODES,
    ...(config.REDIS_PASSWORD !== undefined ? { password: config.REDIS_PASSWORD } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

export async function createRedisComponents(config: HeraldConfig, nodeId: string, logger: Logger, services: readonly Service[]): Promise<Components> {
  const connection = connectionOf(config);
  logger.info(
    { redis: 'url' in connection ? 'standalone' : 'cluster', tls: connection.tls !== undefined, caFile: connection.tls?.ca !== undefined ? config.REDIS_TLS_CA_FILE : undefined, servername: connection.tls?.servername },
    'redis connection',
  );
  const keyPrefix = config.REDIS_KEY_PREFIX ?? DEFAULT_KEY_PREFIX;
  const clients: RedisClient[] = [];
  const client = (use: string, role: ClientRole): RedisClient => {
    const made = createRedisClient(connection, role, { name: `${nodeId}-${use}`, logger: logger.child({ component: 'redis' }) });
    clients.push(made);
    return made;
  };

  const broker = createRedisBroker(connection, {
    keyPrefix,
    retention: retentionSettings(config),
    logger: logger.child({ component: 'broker' }),
    connectionName: nodeId,
    // A publish keeps following the cluster this long; the edge keeps the broker's default.
    ...(services.includes('ingest') ? { operationTimeoutMs: config.INGEST_PUBLISH_TIMEOUT } : {}),
  });

  let admission = new MemoryAdmission(UNLIMITED) as MemoryAdmission | RedisAdmission;
  if (services.includes('edge')) {
    const admissionClient = client('admission', 'commands');
    // Admission starts degraded (admitting alone) if Redis is not there yet; it heals.
    await whenReady(admissionClient, 5_000).catch(() => undefined);
    admission = new RedisAdmission({
      client: admissionClient,
      keyPrefix,
      nodeId,
      limits: admissionLimits(config),
      leaseMs: config.ADMISSION_LEASE_PERIOD,
      fallbackPerNode: config.ADMISSION_FALLBACK_PER_NODE,
      logger: logger.child({ component: 'admission' }),
    });
  }

  const revocations = await createRedisRevocations(client, keyPrefix, services, logger);
  let consumer: StreamConsumer | undefined;
  return {
    broker,
    admission,
    revocations,
    async startIngestStream(publisher: EventPublisher) {
      if (!config.INGEST_STREAM_ENABLED) return;
      // XREADGROUP BLOCK holds its connection: a client of its own, with a queue.
      const streamClient = client('stream', 'blocking');
      consumer = new StreamConsumer({
        client: streamClient,
        keyPrefix,
        consumer: nodeId,
        batchSize: config.INGEST_STREAM_BATCH,
        claimIdleMs: config.INGEST_STREAM_CLAIM_IDLE,
        publisher,
        logger: logger.child({ component: 'ingest-stream' }),
        maxDepth: config.INGEST_MAX_DEPTH,
      });
      await consumer.start();
    },
    async close() {
      await consumer?.stop();
      await Promise.all(clients.map((c) => closeClient(c)));
    },
  };
}
