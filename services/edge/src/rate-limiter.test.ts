import { describe, expect, it } from 'vitest';
import { CommandRateLimiter } from './rate-limiter.js';

describe('CommandRateLimiter', () => {
  it('allows a burst of the limit, then limits, then refills', () => {
    const limiter = new CommandRateLimiter(10, 0);
    for (let i = 0; i < 10; i++) expect(limiter.take(0)).toBe('allow');
    expect(limiter.take(0)).toBe('limit');
    expect(limiter.take(100)).toBe('allow'); // 100 ms = one token at 10/s
    expect(limiter.take(100)).toBe('limit');
  });

  it('calls it abuse only when rejections go on', () => {
    const limiter = new CommandRateLimiter(10, 0);
    const decisions = Array.from({ length: 70 }, () => limiter.take(0));
    expect(decisions.filter((d) => d === 'allow')).toHaveLength(10);
    expect(decisions.slice(10, 60).every((d) => d === 'limit')).toBe(true);
    expect(decisions[60]).toBe('abuse');
  });

  it('forgives a client that slows down', () => {
    const limiter = new CommandRateLimiter(10, 0);
    for (let i = 0; i < 55; i++) limiter.take(0);
    // Ten seconds at the allowed rate refill both buckets.
    for (let t = 100; t <= 10_000; t += 100) expect(limiter.take(t)).toBe('allow');
    expect(limiter.take(10_000)).not.toBe('abuse');
  });
});
