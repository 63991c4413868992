/**
 * `herald edge` with EDGE_WORKERS above 1: this process is the primary of a node:cluster.
 * It serves nothing itself: it forks the workers (each a whole edge with its own
 * admission node id and broker subscriber, all accepting on the same port), restarts a
 * worker that dies, answers the workers' questions about each other (metrics of all of
 * them for one /metrics, readiness of the siblings for /readyz), and on SIGTERM or
 * SIGINT has every worker drain at once, within the same SHUTDOWN_DRAIN_PERIOD.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, createLogger, defaultNodeId, type HeraldConfig } from '@herald/runtime';
import { EXIT_CONFIG } from './errors.js';
import { prettyLogs } from './log-format.js';
import {
  WORKER_INDEX_VARIABLE,
  isMessage,
  type MetricsRequest,
  type MetricsResponse,
  type ReadinessReport,
  type SiblingReadiness,
} from './worker-messages.js';

/** A worker that dies this soon after starting counts as a crash loop: wait longer. */
const STABLE_AFTER_MS = 30_000;
const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 10_000;

interface Slot {
  readonly index: number;
  readonly nodeId: string;
  worker: Worker | undefined;
  startedAt: number;
  restarts: number;
  /** Its last readiness report; absent until the first. */
  reasons: readonly string[] | undefined;
}

export function runEdgePrimary(config: HeraldConfig): void {
  const baseId = config.NODE_ID ?? defaultNodeId();
  const logger = createLogger({ level: config.LOG_LEVEL, node: baseId, pretty: prettyLogs('edge', config.LOG_FORMAT) });
  const aggregator = new AggregatorRegistry();
  const slots: Slot[] = Array.from({ length: config.EDGE_WORKERS }, (_, i) => ({
    index: i + 1,
    nodeId: workerNodeId(baseId, i + 1),
    worker: undefined,
    startedAt: 0,
    restarts: 0,
    reasons: undefined,
  }));
  let stopping = false;
  /** Exit codes of workers that ended during the shutdown. */
  const exitCodes: number[] = [];
  /** What each worker was last told about its siblings. */
  const lastSent = new Map<number, string>();

  const fork = (slot: Slot): void => {
    const worker = cluster.fork({ [WORKER_INDEX_VARIABLE]: String(slot.index), NODE_ID: slot.nodeId });
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.reasons = undefined;
    lastSent.delete(slot.index);
    worker.on('message', (message: unknown) => onMessage(slot, worker, message));
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
    broadcastReadiness();
  };

  const onMessage = (slot: Slot, worker: Worker, message: unknown): void => {
    if (isMessage<ReadinessReport>(message, 'herald:readiness')) {
      slot.reasons = message.reasons;
      broadcastReadiness();
    } else if (isMessage<MetricsRequest>(message, 'herald:metrics-request')) {
      aggregator.clusterMetrics().then(
        (text) => send(worker, { type: 'herald:metrics-response', id: message.id, text }),
        (error: Error) => send(worker, { type: 'herald:metrics-response', id: message.id, error: error.message }),
      );
    }
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    if (code === EXIT_CONFIG && !stopping) {
      // A worker refused the configuration: so would its replacement.
      logger.error({ worker: slot.nodeId }, 'edge worker refused the configuration; stopping');
      exitCodes.push(EXIT_CONFIG);
      shutdown('SIGTERM');
    }
    if (stopping) {
      exitCodes.push(code ?? 1);
      if (slots.every((s) => s.worker === undefined)) finish();
      return;
    }
    // A crash loop backs off; a worker that ran a while restarts at once.
    if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.restarts = 0;
    const delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** slot.restarts);
    slot.restarts += 1;
    logger.error({ worker: slot.nodeId, pid: worker.process.pid, code, signal, restartInMs: delay }, 'edge worker died; restarting it');
    broadcastReadiness();
    setTimeout(() => {
      if (!stopping) fork(slot);
    }, delay).unref();
  };

  const broadcastReadiness = (): void => {
    for (const slot of slots) {
      if (slot.worker === undefined || !slot.worker.isConnected()) continue;
      const reasons = siblingReasons(slots, slot);
      const key = reasons.join('\n');
      if (lastSent.get(slot.index) === key) continue;
      lastSent.set(slot.index, key);
      send(slot.worker, { type: 'herald:siblings', reasons } satisfies SiblingReadiness);
    }
  };

  const finish = (): never => {
    logger.info('edge workers stopped');
    logger.flush?.();
    process.exit(exitCodes.includes(EXIT_CONFIG) ? EXIT_CONFIG : exitCodes.some((c) => c !== 0) ? 1 : 0);
  };

  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: slots.length, timeoutMs: config.SHUTDOWN_TIMEOUT }, 'stopping edge workers');
    // Each worker drains its own connections over the same period, at the same time.
    for (const slot of slots) slot.worker?.process.kill('SIGTERM');
    if (slots.every((s) => s.worker === undefined)) finish();
    setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT }, 'edge workers did not stop in time; exiting');
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT).unref();
  };
  // `on`: a second signal during the drain must not kill the primary.
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // The workers accept from the shared listening socket themselves (the kernel hands each
  // connection to one of them) instead of the primary accepting every connection and
  // passing its handle over IPC, which doubled the CPU per connection: 289-368 us against
  // 154-209 us in the same connect benchmark. NODE_CLUSTER_SCHED_POLICY=rr brings that back.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  logger.info({ workers: slots.length, nodes: slots.map((s) => s.nodeId) }, 'starting edge workers');
  for (const slot of slots) fork(slot);
}

/** Why the siblings of `self` are not ready: not started, not reporting, or their reasons. */
function siblingReasons(slots: readonly Slot[], self: Slot): string[] {
  const reasons: string[] = [];
  for (const slot of slots) {
    if (slot === self) continue;
    if (slot.worker === undefined) reasons.push(`edge worker ${slot.nodeId} is restarting`);
    else if (slot.reasons === undefined) reasons.push(`edge worker ${slot.nodeId} is starting`);
    else for (const reason of slot.reasons) reasons.push(`${slot.nodeId}: ${reason}`);
  }
  return reasons;
}

/** `<base>-<index>`, kept within NODE_ID's 64 characters. */
function workerNodeId(base: string, index: number): string {
  const suffix = `-${index}`;
  return `${base.slice(0, 64 - suffix.length)}${suffix}`;
}

function send(worker: Worker, message: SiblingReadiness | MetricsResponse): void {
  if (!worker.isConnected()) return;
  try {
    worker.send(message);
  } catch {
    // The worker is going away; its exit handler deals with it.
  }
}
