/**
 * The messages between the edge's primary process and its workers (EDGE_WORKERS), over
 * node:cluster IPC. prom-client's own metric requests travel on the same channel.
 */

/** Worker to primary: this worker's own readiness, sent when it changes. */
export interface ReadinessReport {
  readonly type: 'herald:readiness';
  /** Empty when ready. */
  readonly reasons: readonly string[];
}

/** Primary to worker: why siblings are not ready (empty when they all are). */
export interface SiblingReadiness {
  readonly type: 'herald:siblings';
  readonly reasons: readonly string[];
}

/** Worker to primary: a scrape of /metrics landed on this worker. */
export interface MetricsRequest {
  readonly type: 'herald:metrics-request';
  readonly id: number;
}

/** Primary to worker: every worker's metrics, aggregated. */
export interface MetricsResponse {
  readonly type: 'herald:metrics-response';
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

export type WorkerMessage = ReadinessReport | MetricsRequest;
export type PrimaryMessage = SiblingReadiness | MetricsResponse;

/** The environment variable that tells a process it is edge worker N (1-based). */
export const WORKER_INDEX_VARIABLE = 'HERALD_EDGE_WORKER';

export function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}
