import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '@herald/broker';
import { STATS_CHANNEL } from '@herald/protocol';
import type { Logger } from '@herald/runtime';
import { LagWindow } from './lag-window.js';
import { StatsPublisher, type StatsSources } from './stats-publisher.js';

const logger = { warn() {}, info() {}, debug() {} } as unknown as Logger;

function sources(counters: { eventsIn: number; deliveries: number; slow: number }): StatsSources {
  return {
    connections: () => 21,
    subscriptions: () => 30,
    channels: () => 4,
    eventsIn: () => counters.eventsIn,
    deliveries: () => counters.deliveries,
    slowConsumerCloses: () => counters.slow,
    brokerUp: () => true,
    draining: () => false,
  };
}

describe('StatsPublisher', () => {
  it('each message carries the increase of the counters since the previous one and the lag of that interval', () => {
    const counters = { eventsIn: 100, deliveries: 1_000, slow: 1 };
    const lag = new LagWindow();
    const publisher = new StatsPublisher('edge-1', new MemoryBroker(), sources(counters), lag, logger);
    publisher.start();
    publisher.stop();
    counters.eventsIn += 10;
    counters.deliveries += 70;
    counters.slow += 2;
    lag.observe(3);
    const first = publisher.take(Date.now() + 1_000);
    expect(first).toMatchObject({ node: 'edge-1', connections: 21, subscriptions: 30, channels: 4, eventsIn: 10, deliveries: 70, slowConsumerCloses: 2, slowConsumerClosesTotal: 3, brokerUp: true, draining: false });
    expect(first.lag.count).toBe(1);
    const second = publisher.take(first.at + 1_000);
    expect(second).toMatchObject({ eventsIn: 0, deliveries: 0, slowConsumerCloses: 0, slowConsumerClosesTotal: 3, intervalMs: 1_000 });
    expect(second.lag).toEqual({ count: 0, p50Ms: null, p99Ms: null, buckets: [] });
  });

  it('publishes through the broker on _herald:stats, once per interval, as a herald.stats event', async () => {
    const broker = new MemoryBroker();
    const received: Array<{ channel: string; envelope: string }> = [];
    await broker.start({ onPublication: (channel, _seq, envelope) => received.push({ channel, envelope: envelope.toString() }), onDisconnected() {}, onResubscribed() {} });
    await broker.subscribe(STATS_CHANNEL);
    const publisher = new StatsPublisher('edge-1', broker, sources({ eventsIn: 0, deliveries: 0, slow: 0 }), new LagWindow(), logger, 50);
    publisher.start();
    await new Promise((resolve) => setTimeout(resolve, 180));
    publisher.stop();
    await broker.stop();
    expect(received.length).toBeGreaterThanOrEqual(2);
    const envelope = JSON.parse(received[0]!.envelope);
    expect(envelope).toMatchObject({ type: 'herald.stats', channel: STATS_CHANNEL, data: { node: 'edge-1', connections: 21 } });
    expect(envelope.seq).toMatch(/^\d+-\d+$/);
  });
});
