/**
 * The worker side of EDGE_WORKERS: what one edge worker needs from its primary. Its
 * /metrics answers with every worker's metrics (a scrape lands on any worker), and its
 * /readyz is 503 while a sibling is not ready (a probe lands on any worker too).
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Health, type Registry } from '@herald/runtime';
import {
  WORKER_INDEX_VARIABLE,
  isMessage,
  type MetricsRequest,
  type MetricsResponse,
  type ReadinessReport,
  type SiblingReadiness,
} from './worker-messages.js';

/** How often a worker looks at its own readiness (it reports only changes). */
const READINESS_POLL_MS = 200;
const METRICS_TIMEOUT_MS = 5_000;

export class EdgeWorkerLink {
  private siblings: readonly string[] = [];
  private lastReport: string | undefined;
  private nextRequest = 0;
  private readonly pending = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();

  /** The link when this process is an edge worker, undefined otherwise. */
  static ifWorker(env: Readonly<Record<string, string | undefined>>, registry: Registry, health: Health): EdgeWorkerLink | undefined {
    return cluster.isWorker && env[WORKER_INDEX_VARIABLE] !== undefined ? new EdgeWorkerLink(registry, health) : undefined;
  }

  private constructor(
    registry: Registry,
    private readonly health: Health,
  ) {
    // prom-client answers the primary's requests for this registry on its own.
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry();
    health.addSiblingCheck(() => (this.siblings.length === 0 ? undefined : this.siblings.join('; ')));
    process.on('message', (message: unknown) => this.onMessage(message));
    setInterval(() => this.reportReadiness(), READINESS_POLL_MS).unref();
    this.reportReadiness();
  }

  /** Every worker's metrics, as the primary aggregates them. */
  metrics(): Promise<string> {
    const id = this.nextRequest++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the primary did not answer for the metrics'));
      }, METRICS_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: 'herald:metrics-request', id } satisfies MetricsRequest);
    });
  }

  private onMessage(message: unknown): void {
    if (isMessage<SiblingReadiness>(message, 'herald:siblings')) this.siblings = message.reasons;
    else if (isMessage<MetricsResponse>(message, 'herald:metrics-response')) {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.text !== undefined) waiter.resolve(message.text);
      else waiter.reject(new Error(message.error ?? 'no metrics'));
    }
  }

  private reportReadiness(): void {
    const reasons = this.health.localReasons();
    const key = reasons.join('\n');
    if (key === this.lastReport || !process.connected) return;
    this.lastReport = key;
    process.send?.({ type: 'herald:readiness', reasons } satisfies ReadinessReport);
  }
}
