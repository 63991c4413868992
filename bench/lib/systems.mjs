/**
 * The systems under test, each started in one topology:
 *   memory  one server process; publishers post into it (Herald: `herald start`, its
 *           ingest API on the same port; peers: POST /publish)
 *   redis   `nodes` server processes on one redis-server, plus one ingest process
 *           (Herald: `herald edge` x nodes + `herald ingest`; Socket.IO: the Redis
 *           adapter; raw ws: Redis pub/sub), publishers post to the ingest process
 *   redis-cluster  the same on a 3-master Redis Cluster (Herald only)
 *
 * `redisPids` lists the Redis processes of either (one, or every master), so that a
 * scenario sums their CPU.
 *
 * Every system speaks to the same load generators (lib/wsclient.mjs).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_KEY, CLI, SECRET, spawnServer, startRedis, startRedisCluster, stopChild, tempDir } from './proc.mjs';

export const SYSTEMS = {
  herald: { label: 'Herald', protocol: 'herald', path: '/v1/ws', publish: 'herald' },
  // The same Herald processes, its clients on v1.protobuf (binary frames).
  'herald-pb': { label: 'Herald (protobuf)', protocol: 'herald-protobuf', path: '/v1/ws', publish: 'herald', engine: 'herald' },
  raw: { label: 'raw ws (ceiling)', protocol: 'herald', path: '/v1/ws', publish: 'peer' },
  sio: { label: 'Socket.IO 4', protocol: 'sio', path: '/socket.io/?EIO=4&transport=websocket', publish: 'peer' },
};

let heraldConfigDir;
/** A schema for the bench's event type and routes: bench.* -> bench:{data.ch}. */
function heraldConfig() {
  if (heraldConfigDir) return heraldConfigDir;
  const dir = tempDir('config');
  const schemas = join(dir, 'schemas');
  writeFileSync(join(dir, 'routes.json'), JSON.stringify({
    routes: [
      { match: 'bench.*', channels: ['bench:{data.ch}'] },
      { match: 'payment.*', channels: ['merchant:{data.merchant_id}', 'payment:{data.payment_id}', 'order:{data.order_id}'] },
    ],
  }));
  // The registry reads <type>.json from a directory.
  writeFileSync(join(dir, 'bench.tick.json'), JSON.stringify({
    type: 'object',
    required: ['ch', 't'],
    properties: { ch: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' }, t: { type: 'number' }, n: { type: 'integer' }, pad: { type: 'string' } },
  }));
  heraldConfigDir = { dir, schemas: dir, routes: join(dir, 'routes.json') };
  void schemas;
  return heraldConfigDir;
}

/** A routes file sending payment.updated to bench:{data.ch} alone (fan-out benchmarks of payment events). */
export function paymentBenchRoutes() {
  const file = join(heraldConfig().dir, 'routes-payment-bench.json');
  writeFileSync(file, JSON.stringify({ routes: [{ match: 'bench.*', channels: ['bench:{data.ch}'] }, { match: 'payment.updated', channels: ['bench:{data.ch}'] }] }));
  return file;
}

function heraldEnv(extra) {
  const config = heraldConfig();
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    INGEST_PORT: '0',
    LOG_LEVEL: 'info',
    JWT_SECRET: SECRET,
    INGEST_API_KEYS: API_KEY,
    EVENT_SCHEMAS_DIR: config.schemas,
    ROUTES_FILE: config.routes,
    SHUTDOWN_DRAIN_PERIOD: '100ms',
    SHUTDOWN_TIMEOUT: '5s',
    MAX_SUBSCRIPTIONS_PER_CONNECTION: '100',
    ...extra,
    ...Object.fromEntries((process.env.BENCH_HERALD_ENV ?? '').split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
  };
}

/**
 * Starts `system` and returns its parts:
 *   edges: [{pid, port, url}]   the processes holding client connections
 *   ingest: [{pid, url}]        where publishers post
 *   redis:  {pid, url} | undefined   (one Redis)
 *   redisPids: [pid]                 (one Redis, or the cluster's masters)
 */
export async function startSystem(system, { topology = 'memory', nodes = 1, profileDir, env = {}, admission = false, nodeOptions = [] } = {}) {
  const meta = SYSTEMS[system];
  const engine = meta.engine ?? system;
  const nodeArgs = (role) => [...nodeOptions, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${system}-${role}-${Date.now()}.cpuprofile`] : [])];
  const parts = { system, meta, topology, edges: [], ingest: [], redis: undefined, redisPids: [], others: [] };
  let cluster;
  const stop = async () => {
    await Promise.all([...parts.edges, ...parts.ingest, ...parts.others].map((p) => stopChild(p.child)));
    if (parts.redis) await parts.redis.stop();
    if (cluster) await cluster.stop();
  };
  parts.stop = stop;
  try {
    if (topology === 'memory') {
      if (engine === 'herald') {
        const server = await spawnServer({ name: 'herald start', args: [CLI, 'start'], env: heraldEnv(env), nodeArgs: nodeArgs('start') });
        parts.edges.push(server);
        parts.ingest.push(server);
      } else {
        const script = system === 'raw' ? 'bench/servers/raw-ws.mjs' : 'bench/servers/socketio.mjs';
        const server = await spawnServer({ name: system, args: [script], env: { JWT_SECRET: SECRET, PORT: '0', ...env }, nodeArgs: nodeArgs('server') });
        parts.edges.push(server);
        parts.ingest.push(server);
      }
      return parts;
    }
    let heraldRedis;
    if (topology === 'redis-cluster') {
      if (engine !== 'herald') throw new Error(`${system} has no redis-cluster topology here`);
      cluster = await startRedisCluster(3);
      parts.redisPids = cluster.pids;
      heraldRedis = { REDIS_CLUSTER_NODES: cluster.nodes };
    } else {
      parts.redis = await startRedis();
      parts.redisPids = [parts.redis.pid];
      heraldRedis = { REDIS_URL: parts.redis.url };
    }
    const redisUrl = parts.redis?.url;
    for (let i = 0; i < nodes; i++) {
      if (engine === 'herald') {
        parts.edges.push(await spawnServer({ name: `herald edge ${i}`, args: [CLI, 'edge'], env: heraldEnv({ ...heraldRedis, NODE_ID: `edge-${i}`, ...env }), nodeArgs: nodeArgs(`edge${i}`) }));
      } else {
        const script = system === 'raw' ? 'bench/servers/raw-ws.mjs' : 'bench/servers/socketio.mjs';
        parts.edges.push(await spawnServer({ name: `${system} ${i}`, args: [script], env: { JWT_SECRET: SECRET, PORT: '0', REDIS_URL: redisUrl, ...(admission ? { ADMISSION: 'redis' } : {}), ...env }, nodeArgs: nodeArgs(`node${i}`) }));
      }
    }
    if (engine === 'herald') {
      parts.ingest.push(await spawnServer({ name: 'herald ingest', args: [CLI, 'ingest'], env: heraldEnv({ ...heraldRedis, NODE_ID: 'ingest-0', INGEST_STREAM_ENABLED: 'false', ...env }), nodeArgs: nodeArgs('ingest') }));
    } else {
      parts.ingest.push(await spawnServer({ name: `${system} ingest`, args: ['bench/servers/peer-ingest.mjs'], env: { REDIS_URL: redisUrl, KIND: system, PORT: '0' }, nodeArgs: nodeArgs('ingest') }));
    }
    return parts;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Whether `herald edge` can run on Redis in this build (the Redis engine is wired in). */
export async function heraldRedisAvailable() {
  let redis;
  try {
    redis = await startRedis();
    const edge = await spawnServer({ name: 'herald edge probe', args: [CLI, 'edge'], env: heraldEnv({ REDIS_URL: redis.url }), timeoutMs: 10_000 });
    await edge.stop();
    return true;
  } catch {
    return false;
  } finally {
    await redis?.stop();
  }
}
