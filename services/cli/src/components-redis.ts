/**
 * Wiring of the Redis engines (`herald edge`, `herald ingest`): the broker, the
 * connection counter and the ingest stream, each with the clients it
 * needs. The one place in the product that chooses ioredis options besides the
 * broker's own factory.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { MemoryAdmission, UNLIMITED } from '@herald/admission';
import { RedisAdmission } from '@herald/admission/redis';
import { createRedisBroker, parseClusterNodes, type RedisConnectionOptions } from '@herald/broker/redis';
import { StreamConsumer, type EventPublisher } from '@herald/ingest';
import type { HeraldConfig, Logger, Service } from '@herald/runtime';
import { admissionLimits, retentionFromConfig, type Components } from './components.js';

type Client = Redis | Cluster;

function connectionOf(config: HeraldConfig): RedisConnectionOptions {
  if (config.REDIS_URL !== undefined) return { url: config.REDIS_URL };
  return {
    clusterNodes: config.REDIS_CLUSTER_NODES,
    ...(config.REDIS_PASSWORD !== undefined ? { password: config.REDIS_PASSWORD } : {}),
  };
}

/** Fail-fast clients: no offline queue, a command timeout, reconnecting in the background. */
function createClient(connection: RedisConnectionOptions, name: string, logger: Logger, extra: RedisOptions = {}): Client {
  const options: RedisOptions = {
    connectionName: name,
    enableOfflineQueue: false,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    keepAlive: 10_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    ...extra,
  };
  let client: Client;
  if ('url' in connection) client = new Redis(connection.url, options);
  else {
    const { connectionName, commandTimeout, keepAlive, ...clusterLevel } = options;
    const cluster: ClusterOptions = {
      // The stream client asks for a queue: its first command goes out before the slots are known.
      enableOfflineQueue: clusterLevel.enableOfflineQueue ?? false,
      clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
      ...(clusterLevel.enableAutoPipelining ? { enableAutoPipelining: true } : {}),
      redisOptions: {
        connectionName,
        commandTimeout,
        keepAlive,
        ...(connection.username !== undefined ? { username: connection.username } : {}),
        ...(connection.password !== undefined ? { password: connection.password } : {}),
      },
    };
    client = new Cluster(parseClusterNodes(connection.clusterNodes), cluster);
  }
  let loggedAt = 0;
  client.on('error', (error: Error) => {
    // ioredis reports every failed reconnection; one line per 10 s is enough.
    if (Date.now() - loggedAt < 10_000) return;
    loggedAt = Date.now();
    logger.warn({ err: error, client: name }, 'redis client error');
  });
  return client;
}

function whenReady(client: Client, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('ready', onReady);
  });
}

export async function createRedisComponents(config: HeraldConfig, nodeId: string, logger: Logger, services: readonly Service[]): Promise<Components> {
  const connection = connectionOf(config);
  const keyPrefix = config.REDIS_KEY_PREFIX ?? 'herald';
  const clients: Client[] = [];
  const client = (role: string, extra?: RedisOptions): Client => {
    const made = createClient(connection, `${nodeId}-${role}`, logger, extra);
    clients.push(made);
    return made;
  };

  const broker = createRedisBroker(connection, {
    keyPrefix,
    retention: retentionFromConfig(config),
    logger: logger.child({ component: 'broker' }),
    connectionName: nodeId,
    // A publish keeps following the cluster this long; the edge keeps the broker's default.
    ...(services.includes('ingest') ? { operationTimeoutMs: config.INGEST_PUBLISH_TIMEOUT } : {}),
  });

  let admission = new MemoryAdmission(UNLIMITED) as MemoryAdmission | RedisAdmission;
  if (services.includes('edge')) {
    const admissionClient = client('admission');
    // Admission starts degraded (admitting alone) if Redis is not there yet; it heals.
    await whenReady(admissionClient, 5_000);
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

  let consumer: StreamConsumer | undefined;
  return {
    broker,
    admission,
    async startIngestStream(publisher: EventPublisher) {
      if (!config.INGEST_STREAM_ENABLED) return;
      // XREADGROUP BLOCK holds its connection: a client of its own, with a queue.
      const streamClient = client('stream', { enableOfflineQueue: true, commandTimeout: undefined });
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
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
