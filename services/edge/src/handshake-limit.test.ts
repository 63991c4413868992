import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HandshakeLimit, HandshakeLimiter } from './handshake-limit.js';

const T0 = 1_700_000_000_000;

describe('HandshakeLimiter', () => {
  it('admits the limit per address per second, then refuses until the next second', () => {
    const limiter = new HandshakeLimiter(3);
    const taken = Array.from({ length: 5 }, (_, i) => limiter.take('a', T0 + i * 10).allowed);
    expect(taken).toEqual([true, true, true, false, false]);
    expect(limiter.take('a', T0 + 999)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    // Another address has its own count; a new second starts everyone afresh.
    expect(limiter.take('b', T0 + 999).allowed).toBe(true);
    expect(limiter.take('a', T0 + 1_000).allowed).toBe(true);
  });

  it('keeps at most maxAddresses keys; the rest share one overflow count', () => {
    const limiter = new HandshakeLimiter(2, 100);
    for (let i = 0; i < 100; i++) expect(limiter.take(`known-${i}`, T0).allowed).toBe(true);
    // A spray of new addresses in the same second: two pass, as if they were one client.
    const spray = Array.from({ length: 10_000 }, (_, i) => limiter.take(`spray-${i}`, T0 + 1).allowed);
    expect(spray.filter(Boolean)).toHaveLength(2);
    expect(limiter.trackedAddresses).toBe(100);
    // Tracked clients keep their own count meanwhile.
    expect(limiter.take('known-7', T0 + 2).allowed).toBe(true);
    expect(limiter.take('known-7', T0 + 3).allowed).toBe(false);
    // The table empties with the second.
    expect(limiter.take('spray-1', T0 + 1_000).allowed).toBe(true);
    expect(limiter.trackedAddresses).toBe(1);
  });

  it('stays within its bound under a sustained spray of addresses', () => {
    const limiter = new HandshakeLimiter(10, 50_000);
    for (let i = 0; i < 200_000; i++) limiter.take(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`, T0 + Math.floor(i / 100_000) * 1_000);
    expect(limiter.trackedAddresses).toBe(50_000);
  });
});

describe('HandshakeLimit', () => {
  const request = (remoteAddress: string, forwardedFor?: string): IncomingMessage =>
    ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

  it('is off unless MAX_HANDSHAKES_PER_IP_PER_SECOND is set', () => {
    expect(HandshakeLimit.fromOptions({})).toBeUndefined();
    expect(HandshakeLimit.fromOptions({ maxHandshakesPerIpPerSecond: null })).toBeUndefined();
    expect(HandshakeLimit.fromOptions({ maxHandshakesPerIpPerSecond: 5 })).toBeInstanceOf(HandshakeLimit);
  });

  it('counts clients behind a trusted proxy apart, and the header of anyone else not at all', () => {
    const limit = new HandshakeLimit(1, ['127.0.0.1']);
    expect(limit.check(request('127.0.0.1', '198.51.100.1'), T0).allowed).toBe(true);
    expect(limit.check(request('127.0.0.1', '198.51.100.2'), T0).allowed).toBe(true);
    expect(limit.check(request('127.0.0.1', '198.51.100.1'), T0).allowed).toBe(false);
    // An untrusted peer inventing addresses is still one client.
    expect(limit.check(request('203.0.113.9', '198.51.100.3'), T0).allowed).toBe(true);
    expect(limit.check(request('203.0.113.9', '198.51.100.4'), T0).allowed).toBe(false);
    // One IPv6 host rotating through its /64 is one client.
    expect(limit.check(request('2001:db8:1:2::1'), T0).allowed).toBe(true);
    expect(limit.check(request('2001:db8:1:2::2'), T0).allowed).toBe(false);
  });
});
