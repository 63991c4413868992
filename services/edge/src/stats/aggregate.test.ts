import { describe, expect, it } from 'vitest';
import { STATS_CHANNEL } from '@herald/protocol';
import { ClusterView, STALE_AFTER_MS, parseNodeStats } from './aggregate.js';
import { LAG_BOUNDS_MS, lagBucket, quantileMs } from './lag-buckets.js';
import { LagWindow } from './lag-window.js';
import { STATS_CHANNEL_NAME, type NodeStats } from './node-stats.js';

function stats(node: string, overrides: Partial<NodeStats> = {}): NodeStats {
  return {
    node,
    at: 1_000,
    intervalMs: 1_000,
    uptimeSeconds: 10,
    connections: 0,
    subscriptions: 0,
    channels: 0,
    eventsIn: 0,
    deliveries: 0,
    lag: { count: 0, p50Ms: null, p99Ms: null, buckets: [] },
    slowConsumerCloses: 0,
    slowConsumerClosesTotal: 0,
    brokerUp: true,
    draining: false,
    ...overrides,
  };
}

function lagOf(lagsMs: number[]): NodeStats['lag'] {
  const window = new LagWindow();
  for (const lag of lagsMs) window.observe(lag);
  const summary = window.take();
  return { count: summary.count, p50Ms: summary.p50Ms ?? null, p99Ms: summary.p99Ms ?? null, buckets: summary.buckets };
}

describe('ClusterView', () => {
  it('sums connections, subscriptions and rates over the nodes, one row per node by name', () => {
    const view = new ClusterView();
    view.add(stats('edge-b', { connections: 7, subscriptions: 14, eventsIn: 10, deliveries: 70 }), 0);
    view.add(stats('edge-a', { connections: 5, subscriptions: 5, eventsIn: 10, deliveries: 50 }), 0);
    view.add(stats('edge-c', { connections: 9, subscriptions: 9, eventsIn: 5, deliveries: 45, intervalMs: 500, slowConsumerClosesTotal: 2 }), 0);
    expect(view.rows(100).map((row) => [row.node, row.connections])).toEqual([
      ['edge-a', 5],
      ['edge-b', 7],
      ['edge-c', 9],
    ]);
    const totals = view.totals(100);
    expect(totals).toMatchObject({ nodes: 3, connections: 21, subscriptions: 28, slowConsumerCloses: 2 });
    // edge-c counted over half a second: 10/s and 90/s.
    expect(totals.inPerSecond).toBe(30);
    expect(totals.outPerSecond).toBe(210);
  });

  it('keeps the newest message per node and ignores one that arrives late', () => {
    const view = new ClusterView();
    view.add(stats('edge-a', { at: 2_000, connections: 3 }), 0);
    view.add(stats('edge-a', { at: 1_000, connections: 99 }), 10);
    expect(view.totals(20).connections).toBe(3);
    view.add(stats('edge-a', { at: 3_000, connections: 4 }), 30);
    expect(view.totals(40).connections).toBe(4);
  });

  it('drops a node silent for longer than the stale period, by the time the page received it', () => {
    const view = new ClusterView();
    view.add(stats('edge-a', { at: 0 }), 1_000);
    // The node's own clock is far off: what counts is when the page heard it.
    view.add(stats('edge-b', { at: 9_999_999 }), 3_000);
    expect(view.totals(1_000 + STALE_AFTER_MS).nodes).toBe(2);
    expect(view.rows(1_001 + STALE_AFTER_MS).map((row) => row.node)).toEqual(['edge-b']);
    expect(view.totals(3_001 + STALE_AFTER_MS).nodes).toBe(0);
  });

  it('merges the nodes lag buckets: the cluster p99 is the slow node, not an average', () => {
    const view = new ClusterView();
    view.add(stats('fast', { lag: lagOf(Array.from({ length: 98 }, () => 1)) }), 0);
    view.add(stats('slow', { lag: lagOf([200, 200]) }), 0);
    const totals = view.totals(0);
    expect(totals.p50Ms).toBe(LAG_BOUNDS_MS[lagBucket(1)]);
    expect(totals.p99Ms).toBe(LAG_BOUNDS_MS[lagBucket(200)]);
    expect(totals.p99Ms).toBeGreaterThanOrEqual(200);
    expect(totals.p99Ms).toBeLessThan(250);
  });

  it('no events in the interval: no lag rather than zero', () => {
    const view = new ClusterView();
    view.add(stats('edge-a'), 0);
    expect(view.totals(0)).toMatchObject({ p50Ms: undefined, p99Ms: undefined });
  });

  it('keeps a bounded history of totals for the charts', () => {
    const view = new ClusterView(STALE_AFTER_MS, 3);
    for (let second = 0; second < 5; second += 1) {
      view.add(stats('edge-a', { at: second * 1000, eventsIn: second }), second * 1000);
      view.sample(second * 1000);
    }
    expect(view.history.map((point) => point.inPerSecond)).toEqual([2, 3, 4]);
  });
});

describe('lag buckets', () => {
  it('bounds grow by a quarter from 0.1 ms to a minute; a lag falls in the first bucket at or above it', () => {
    expect(LAG_BOUNDS_MS[0]).toBe(0.1);
    expect(LAG_BOUNDS_MS.at(-1)).toBeGreaterThan(40_000);
    for (let index = 1; index < LAG_BOUNDS_MS.length; index += 1) expect(LAG_BOUNDS_MS[index]! / LAG_BOUNDS_MS[index - 1]!).toBeCloseTo(1.25, 1);
    expect(lagBucket(0)).toBe(0);
    expect(lagBucket(0.1)).toBe(0);
    expect(lagBucket(0.11)).toBe(1);
    for (const lag of [0.5, 3, 47, 999, 12_345]) {
      const bound = LAG_BOUNDS_MS[lagBucket(lag)]!;
      expect(bound).toBeGreaterThanOrEqual(lag);
      expect(bound).toBeLessThan(lag * 1.26);
    }
    expect(lagBucket(10 * 60_000)).toBe(LAG_BOUNDS_MS.length);
    expect(quantileMs([[LAG_BOUNDS_MS.length, 1]], 0.99)).toBe(LAG_BOUNDS_MS.at(-1));
  });

  it('the window counts one interval and starts empty again; its memory does not grow with the rate', () => {
    const window = new LagWindow();
    for (let index = 0; index < 100_000; index += 1) window.observe(index % 100);
    const first = window.take();
    expect(first.count).toBe(100_000);
    expect(first.buckets.length).toBeLessThanOrEqual(LAG_BOUNDS_MS.length + 1);
    expect(first.p50Ms).toBeGreaterThanOrEqual(49);
    expect(first.p50Ms).toBeLessThan(49 * 1.26);
    expect(first.p99Ms).toBeGreaterThanOrEqual(98);
    expect(window.take()).toEqual({ count: 0, p50Ms: undefined, p99Ms: undefined, buckets: [] });
  });
});

describe('parseNodeStats', () => {
  it('takes a well-formed message and refuses anything else', () => {
    const good = stats('edge-a', { lag: lagOf([1, 2]) });
    expect(parseNodeStats(JSON.parse(JSON.stringify(good)))).toEqual(good);
    for (const bad of [null, 'x', [], { ...good, node: '' }, { ...good, connections: -1 }, { ...good, connections: 1.5 }, { ...good, lag: null }, { ...good, lag: { ...good.lag, buckets: [[1]] } }, { ...good, brokerUp: 'yes' }]) {
      expect(parseNodeStats(bad)).toBeUndefined();
    }
  });

  it('the page subscribes to the channel the edges publish on', () => {
    expect(STATS_CHANNEL_NAME).toBe(STATS_CHANNEL);
  });
});
