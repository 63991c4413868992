/**
 * The console's view of the cluster, from the `herald.stats` messages of every node
 * (node-stats.ts): the latest message per node, nodes dropped once they have been
 * silent for STALE_AFTER_MS (by the time the page received them, not the node's clock,
 * which may be off), cluster totals, and a bounded history of totals for the charts.
 * Pure: no Node and no DOM API, so the edge's unit tests run it and the page loads it.
 */
import { quantileMs, type SparseBuckets } from './lag-buckets.js';
import type { NodeStats } from './node-stats.js';

/** A node that published nothing for this long is gone from the page. */
export const STALE_AFTER_MS = 5_000;
/** Points kept for the charts: one per sample (the page samples once a second). */
export const HISTORY_POINTS = 60;

export interface NodeRow {
  readonly node: string;
  readonly connections: number;
  readonly subscriptions: number;
  readonly channels: number;
  readonly inPerSecond: number;
  readonly outPerSecond: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly slowConsumerCloses: number;
  readonly brokerUp: boolean;
  readonly draining: boolean;
}

export interface ClusterTotals {
  readonly nodes: number;
  readonly connections: number;
  readonly subscriptions: number;
  /** Events the nodes received from the broker per second, summed over nodes. */
  readonly inPerSecond: number;
  readonly outPerSecond: number;
  /** Over every node's events of its last interval (the buckets added up). */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Since each live node started. */
  readonly slowConsumerCloses: number;
}

export interface HistoryPoint {
  readonly at: number;
  readonly inPerSecond: number;
  readonly outPerSecond: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

interface Seen {
  readonly stats: NodeStats;
  readonly receivedAt: number;
}

export class ClusterView {
  private readonly nodes = new Map<string, Seen>();
  private readonly points: HistoryPoint[] = [];

  constructor(
    private readonly staleAfterMs = STALE_AFTER_MS,
    private readonly historyPoints = HISTORY_POINTS,
  ) {}

  /** A node's message; an older one than what is held (reordered delivery) is ignored. */
  add(stats: NodeStats, receivedAt: number): void {
    const held = this.nodes.get(stats.node);
    if (held !== undefined && held.stats.at > stats.at) return;
    this.nodes.set(stats.node, { stats, receivedAt });
  }

  /** Nodes heard from within the stale period, by name. */
  rows(now: number): NodeRow[] {
    this.expire(now);
    return [...this.nodes.values()].map(({ stats }) => rowOf(stats)).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  totals(now: number): ClusterTotals {
    const rows = this.rows(now);
    const buckets: Array<readonly [number, number]> = [];
    for (const { stats } of this.nodes.values()) buckets.push(...stats.lag.buckets);
    return {
      nodes: rows.length,
      connections: sum(rows, (row) => row.connections),
      subscriptions: sum(rows, (row) => row.subscriptions),
      inPerSecond: sum(rows, (row) => row.inPerSecond),
      outPerSecond: sum(rows, (row) => row.outPerSecond),
      p50Ms: quantileMs(buckets, 0.5),
      p99Ms: quantileMs(buckets, 0.99),
      slowConsumerCloses: sum([...this.nodes.values()], ({ stats }) => stats.slowConsumerClosesTotal),
    };
  }

  /** Records the totals now as one chart point (the oldest beyond HISTORY_POINTS go). */
  sample(now: number): ClusterTotals {
    const totals = this.totals(now);
    this.points.push({ at: now, inPerSecond: totals.inPerSecond, outPerSecond: totals.outPerSecond, p50Ms: totals.p50Ms, p99Ms: totals.p99Ms });
    if (this.points.length > this.historyPoints) this.points.splice(0, this.points.length - this.historyPoints);
    return totals;
  }

  get history(): readonly HistoryPoint[] {
    return this.points;
  }

  private expire(now: number): void {
    for (const [node, seen] of this.nodes) if (now - seen.receivedAt > this.staleAfterMs) this.nodes.delete(node);
  }
}

function rowOf(stats: NodeStats): NodeRow {
  const perSecond = (count: number): number => (stats.intervalMs > 0 ? (count * 1000) / stats.intervalMs : 0);
  return {
    node: stats.node,
    connections: stats.connections,
    subscriptions: stats.subscriptions,
    channels: stats.channels,
    inPerSecond: perSecond(stats.eventsIn),
    outPerSecond: perSecond(stats.deliveries),
    p50Ms: stats.lag.p50Ms ?? undefined,
    p99Ms: stats.lag.p99Ms ?? undefined,
    slowConsumerCloses: stats.slowConsumerClosesTotal,
    brokerUp: stats.brokerUp,
    draining: stats.draining,
  };
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}

/**
 * A `herald.stats` event's data as the page receives it, or undefined when it is not
 * one (the page trusts the server, but a malformed message must not break the view).
 */
export function parseNodeStats(data: unknown): NodeStats | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value = data as Record<string, unknown>;
  const counts = ['at', 'intervalMs', 'uptimeSeconds', 'connections', 'subscriptions', 'channels', 'eventsIn', 'deliveries', 'slowConsumerCloses', 'slowConsumerClosesTotal'];
  if (typeof value.node !== 'string' || value.node.length === 0) return undefined;
  for (const key of counts) if (!isCount(value[key])) return undefined;
  if (typeof value.brokerUp !== 'boolean' || typeof value.draining !== 'boolean') return undefined;
  const lag = value.lag as Record<string, unknown> | null | undefined;
  if (typeof lag !== 'object' || lag === null || !isCount(lag.count) || !isOptionalMs(lag.p50Ms) || !isOptionalMs(lag.p99Ms)) return undefined;
  if (!Array.isArray(lag.buckets) || !lag.buckets.every((pair) => Array.isArray(pair) && pair.length === 2 && isCount(pair[0]) && isCount(pair[1]))) return undefined;
  return { ...(value as unknown as NodeStats), lag: { count: lag.count, p50Ms: lag.p50Ms as number | null, p99Ms: lag.p99Ms as number | null, buckets: lag.buckets as SparseBuckets } };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isOptionalMs(value: unknown): boolean {
  return value === null || (typeof value === 'number' && value >= 0);
}
