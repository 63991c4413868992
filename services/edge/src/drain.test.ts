import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spreadOver } from './drain.js';

describe('spreadOver (the drain 1001 closes)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('spreads closes evenly over the period: no burst at the start, none at the end', async () => {
    const closedAt: number[] = [];
    const start = Date.now();
    const done = spreadOver(Array.from({ length: 900 }, (_, i) => i), 3_000, () => closedAt.push(Date.now() - start));
    await vi.advanceTimersByTimeAsync(3_100);
    await done;
    expect(closedAt).toHaveLength(900);
    // Per 100 ms, 30 closes (900 over 3 s), give or take a timer tick's worth.
    const perSlot = Array.from({ length: 30 }, (_, slot) => closedAt.filter((t) => t >= slot * 100 && t < (slot + 1) * 100).length);
    for (const count of perSlot) expect(Math.abs(count - 30)).toBeLessThanOrEqual(3);
    expect(Math.max(...closedAt)).toBeLessThanOrEqual(3_000);
  });

  it('closes everything at once with no period', async () => {
    const closed: number[] = [];
    await spreadOver([1, 2, 3], 0, (item) => closed.push(item));
    expect(closed.sort()).toEqual([1, 2, 3]);
  });
});
