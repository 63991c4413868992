import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Registry, type Logger } from '@herald/runtime';
import { Rebalancer, type Shedable } from './rebalance.js';

class FakeSession implements Shedable {
  closing = false;
}

function setup(own: number, others: number[], threshold = 1.2) {
  const sessions = new Set<FakeSession>(Array.from({ length: own }, () => new FakeSession()));
  const shed: FakeSession[] = [];
  const logs: string[] = [];
  const logger = { info: (_: object, message: string) => logs.push(message), debug() {}, warn() {} } as unknown as Logger;
  const counts = () => new Map<string, number>([['me', sessions.size], ...others.map((count, i): [string, number] => [`n${i}`, count])]);
  const rebalancer = new Rebalancer<FakeSession>(
    {
      nodeId: 'me',
      admission: { nodeCounts: () => Promise.resolve(counts()) },
      sessions,
      shed: (session) => {
        session.closing = true;
        shed.push(session);
        sessions.delete(session); // the close completes at once here
        if (others.length > 0) others[shed.length % others.length]! += 1; // and the client lands elsewhere
      },
      logger,
      registry: new Registry(),
    },
    threshold,
  );
  return { rebalancer, sessions, shed, logs };
}

describe('rebalancing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sheds a node at 3x the average down to the average, at most 1% of its connections per second', async () => {
    const { rebalancer, sessions, shed, logs } = setup(600, [0, 0]);
    rebalancer.start();
    await vi.advanceTimersByTimeAsync(1_000); // first check
    await vi.advanceTimersByTimeAsync(10_000);
    // 1% of 600 = 6 per second.
    expect(shed.length).toBeLessThanOrEqual(6 * 10);
    expect(shed.length).toBeGreaterThanOrEqual(6 * 9);
    await vi.advanceTimersByTimeAsync(120_000);
    // The clients went to the others. The node counts those it shed in the last 10 s as
    // still its own (here they land at once): it stops at or a little above the average
    // (200), never below: 6 per second for 10 s over 3 nodes is at most 20 above.
    expect(sessions.size).toBeGreaterThanOrEqual(200);
    expect(sessions.size).toBeLessThanOrEqual(220);
    expect(shed.length).toBe(600 - sessions.size);
    expect(logs).toContain('rebalancing: closing connections above the cluster average with 1001');
    expect(logs).toContain('rebalanced');
    rebalancer.stop();
  });

  it('leaves a node within the threshold alone', async () => {
    const { rebalancer, shed } = setup(110, [100, 90]);
    rebalancer.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(shed).toHaveLength(0);
    rebalancer.stop();
  });

  it('does nothing on a single node', async () => {
    const { rebalancer, shed } = setup(500, []);
    rebalancer.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(shed).toHaveLength(0);
    rebalancer.stop();
  });
});
