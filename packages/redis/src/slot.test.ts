import { describe, expect, it } from 'vitest';
import { keySlot } from './slot.js';

describe('keySlot', () => {
  // Expected values from CLUSTER KEYSLOT on redis-server 7.0. Not listed: a key whose
  // first tag is empty and another follows (`foo{}{bar}`: Redis 8363, the library 4015,
  // as ioredis routes it); no key Herald makes has braces outside its one tag, since
  // prefixes, channels and event ids cannot hold them (a `sub` with braces in a
  // revocation key only costs a MOVED that ioredis follows).
  it.each([
    ['123456789', 12739],
    ['foo', 12182],
    ['{user1000}.following', 3443],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
    ['herald:{merchant:m_42}:s', 15905],
    ['{café}', 5735],
  ])('slot of %s is %i', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });
});
