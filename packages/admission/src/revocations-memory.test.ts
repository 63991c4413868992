import { describe, expect, it } from 'vitest';
import { isRevokedToken, type Revocation } from './revocations.js';
import { MemoryRevocations } from './revocations-memory.js';

describe('MemoryRevocations', () => {
  it('stores, announces, and lets a revocation lapse after its TTL', async () => {
    let now = 1_000_000;
    const revocations = new MemoryRevocations(() => now);
    const heard: Revocation[] = [];
    await revocations.listen({ onRevoked: (revocation) => heard.push(revocation), onMissed() {} });
    const made = await revocations.revoke('alice', 999_500, 10_000);
    expect(made).toEqual({ user: 'alice', before: 999_500, until: 1_010_000 });
    await Promise.resolve();
    expect(heard).toEqual([made]);
    expect(await revocations.lookup(['alice', 'bob'])).toEqual(new Map([['alice', 999_500]]));
    now = 1_010_000;
    expect(await revocations.lookup(['alice'])).toEqual(new Map());
  });

  it('never weakens a standing revocation: the later instant and the longer life win', async () => {
    let now = 0;
    const revocations = new MemoryRevocations(() => now);
    await revocations.revoke('alice', 5_000, 60_000);
    now = 1_000;
    expect(await revocations.revoke('alice', 2_000, 10_000)).toEqual({ user: 'alice', before: 5_000, until: 60_000 });
  });
});

describe('isRevokedToken', () => {
  it('rounds the instant up to the next whole second; no iat is refused', () => {
    expect(isRevokedToken(1_000, 1_000_500)).toBe(true); // minted in the same second
    expect(isRevokedToken(1_001, 1_000_500)).toBe(false);
    expect(isRevokedToken(999, 1_000_000)).toBe(true);
    expect(isRevokedToken(1_000, 1_000_000)).toBe(false); // a whole second: minted at or after it
    expect(isRevokedToken(undefined, 0)).toBe(true);
  });
});
