/**
 * What every edge node publishes on `_herald:stats` (STATS_CHANNEL) about once a second,
 * as the `data` of an event of type `herald.stats`. Shared with the console page, which
 * only reads it. Counts marked "in the interval" cover `intervalMs` before `at`; the
 * others are the node's state at `at`. Pure types: no Node and no DOM API.
 */
import type { SparseBuckets } from './lag-buckets.js';

export const STATS_EVENT_TYPE = 'herald.stats';

/**
 * @herald/protocol's STATS_CHANNEL, repeated here because the page loads plain modules
 * and cannot import a package; aggregate.test.ts checks that the two agree.
 */
export const STATS_CHANNEL_NAME = '_herald:stats';

export interface NodeStats {
  /** NODE_ID. */
  readonly node: string;
  /** Epoch milliseconds when the stats were taken. */
  readonly at: number;
  /** Length of the interval the counts cover, in milliseconds. */
  readonly intervalMs: number;
  readonly uptimeSeconds: number;
  readonly connections: number;
  /** Session subscriptions (one per connection and channel). */
  readonly subscriptions: number;
  /** Channels this node is subscribed to at the broker. */
  readonly channels: number;
  /** Events received from the broker for fan-out, in the interval (Herald's own channels excluded). */
  readonly eventsIn: number;
  /** Event frames queued to connections, in the interval. */
  readonly deliveries: number;
  /** Publish-to-deliver lag of the interval's events, in milliseconds. */
  readonly lag: {
    readonly count: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
    readonly buckets: SparseBuckets;
  };
  /** Connections closed as slow consumers (over MAX_BUFFERED_BYTES), in the interval. */
  readonly slowConsumerCloses: number;
  /** The same, since the node started. */
  readonly slowConsumerClosesTotal: number;
  /** The broker connected and every subscription live (as /readyz sees it). */
  readonly brokerUp: boolean;
  readonly draining: boolean;
}
