/**
 * Every edge node publishes its stats once a second through the Broker, on
 * `_herald:stats`, as an ordinary Herald event: one Redis or a Cluster, one node or
 * twenty, whoever subscribes (an admin token: channel-access.ts) sees every node, and a
 * node that stops publishing simply stops appearing. The channel's history is the
 * broker's usual one (HISTORY_SIZE events), so a console that connects sees the last
 * few seconds at once when it subscribes with `since`.
 *
 * Counts come from what the edge keeps anyway (EdgeMetrics' plain counters, the hub's
 * and the server's sizes); each message carries the difference since the previous one.
 */
import { randomUUID } from 'node:crypto';
import type { Broker } from '@herald/broker';
import { STATS_CHANNEL, envelopeTemplate } from '@herald/protocol';
import type { Logger } from '@herald/runtime';
import type { LagWindow } from './lag-window.js';
import { STATS_EVENT_TYPE, type NodeStats } from './node-stats.js';

export const STATS_INTERVAL_MS = 1_000;
/**
 * How long a stats event's id is remembered: each id is fresh and never retried, so the
 * broker's day-long idempotency window would only keep 86,400 ids per node in Redis.
 */
const STATS_ID_TTL_MS = 10_000;
/** A failing publish (the broker is down) is logged once per this period, not every second. */
const FAILURE_LOG_INTERVAL_MS = 30_000;

/** The node's state and monotonic counters, read once per interval. */
export interface StatsSources {
  connections(): number;
  subscriptions(): number;
  channels(): number;
  /** Totals since start: the publisher sends their increase over the interval. */
  eventsIn(): number;
  deliveries(): number;
  slowConsumerCloses(): number;
  brokerUp(): boolean;
  draining(): boolean;
}

export class StatsPublisher {
  private timer: NodeJS.Timeout | undefined;
  private previous = { at: 0, eventsIn: 0, deliveries: 0, slowConsumerCloses: 0 };
  private readonly startedAt = Date.now();
  private lastFailureLog = 0;
  private inFlight = false;

  constructor(
    private readonly nodeId: string,
    private readonly broker: Broker,
    private readonly sources: StatsSources,
    private readonly lag: LagWindow,
    private readonly logger: Logger,
    private readonly intervalMs = STATS_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.previous = { at: Date.now(), eventsIn: this.sources.eventsIn(), deliveries: this.sources.deliveries(), slowConsumerCloses: this.sources.slowConsumerCloses() };
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The stats of the interval that ends now; the next interval starts. */
  take(now = Date.now()): NodeStats {
    const eventsIn = this.sources.eventsIn();
    const deliveries = this.sources.deliveries();
    const slow = this.sources.slowConsumerCloses();
    const lag = this.lag.take();
    const stats: NodeStats = {
      node: this.nodeId,
      at: now,
      intervalMs: Math.max(0, now - this.previous.at),
      uptimeSeconds: Math.floor((now - this.startedAt) / 1000),
      connections: this.sources.connections(),
      subscriptions: this.sources.subscriptions(),
      channels: this.sources.channels(),
      eventsIn: eventsIn - this.previous.eventsIn,
      deliveries: deliveries - this.previous.deliveries,
      lag: { count: lag.count, p50Ms: lag.p50Ms ?? null, p99Ms: lag.p99Ms ?? null, buckets: lag.buckets },
      slowConsumerCloses: slow - this.previous.slowConsumerCloses,
      slowConsumerClosesTotal: slow,
      brokerUp: this.sources.brokerUp(),
      draining: this.sources.draining(),
    };
    this.previous = { at: now, eventsIn, deliveries, slowConsumerCloses: slow };
    return stats;
  }

  private tick(): void {
    const stats = this.take();
    // A broker that is down or slow gets no queue of stale stats: skip this second.
    if (this.inFlight || this.broker.state !== 'ready') return;
    // A fresh id per message: the broker publishes an id once, so a reused one would be
    // dropped. It is remembered for STATS_ID_TTL_MS only.
    const event = { type: STATS_EVENT_TYPE, id: `st_${randomUUID()}`, timestamp: new Date(stats.at).toISOString(), data: JSON.stringify(stats) };
    this.inFlight = true;
    this.broker
      .publishEvents([{ id: event.id, requests: [{ channel: STATS_CHANNEL, template: envelopeTemplate(event, STATS_CHANNEL) }], idTtlMs: STATS_ID_TTL_MS }])
      .then(([result]) => {
        if (result instanceof Error) throw result;
      })
      .catch((error: unknown) => {
        const now = Date.now();
        if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
        this.lastFailureLog = now;
        this.logger.warn({ err: error, channel: STATS_CHANNEL }, 'stats publish failed');
      })
      .finally(() => {
        this.inFlight = false;
      });
  }
}
