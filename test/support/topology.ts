/**
 * One shape for "where are the edges and the ingest API", so a black-box test can run
 * against `herald start` (one process, every role) or a cluster on Redis (several
 * edges and ingest processes) without knowing which:
 *
 *   const topology = await allInOne(env);                 // or redisTopology(redis, 3, 2, env)
 *   TestClient.open(topology.wsUrl(0), ...)                // edge 0; index wraps around
 *   publish(topology.ingestUrl(1), event)                   // ingest 1 (the same process in start)
 */
import { nodeIdOf, startCluster, stopProcess, type Env } from './cluster.js';
import { startHerald, type HeraldProcess } from './herald.js';
import type { RedisClusterHandle, RedisServer } from './redis.js';

export interface Topology {
  readonly name: string;
  readonly edgeCount: number;
  readonly ingestCount: number;
  /** ws://.../v1/ws of edge `node` (modulo the number of edges). */
  wsUrl(node: number): string;
  /** http://... of edge `node`: health, metrics, the WebSocket port. */
  edgeUrl(node: number): string;
  /** http://... of ingest `node` (modulo the number of ingest processes). */
  ingestUrl(node: number): string;
  /** The node id edge `node` announces in its `connected` frame. */
  nodeId(node: number): string;
  stop(): Promise<void>;
}

const at = <T>(list: readonly T[], index: number): T => list[index % list.length]!;

function fromProcesses(name: string, edges: readonly HeraldProcess[], ingests: readonly HeraldProcess[], stop: () => Promise<void>): Topology {
  return {
    name,
    edgeCount: edges.length,
    ingestCount: ingests.length,
    wsUrl: (node) => at(edges, node).wsUrl,
    edgeUrl: (node) => at(edges, node).url,
    ingestUrl: (node) => at(ingests, node).url,
    nodeId: (node) => nodeIdOf(at(edges, node)),
    stop,
  };
}

/** `herald start`: one process is every edge and every ingest. */
export async function allInOne(env: Env = {}): Promise<Topology> {
  const herald = await startHerald({ mode: 'start', waitReady: true, env: { NODE_ID: `start-${process.pid}`, ...env } });
  return fromProcesses('herald start', [herald], [herald], async () => {
    await stopProcess(herald);
  });
}

/** `herald edge` x `edges` and `herald ingest` x `ingests` on one Redis or a Redis Cluster. */
export async function redisTopology(redis: RedisServer | RedisClusterHandle, edges: number, ingests: number, env: Env = {}): Promise<Topology> {
  const cluster = await startCluster({ redis, label: 'topology', edges, ingests, env });
  const kind = 'nodes' in redis ? 'Redis Cluster' : 'Redis';
  return fromProcesses(`${edges} edges and ${ingests} ingest on ${kind}`, cluster.edges, cluster.ingests, () => cluster.stop());
}
