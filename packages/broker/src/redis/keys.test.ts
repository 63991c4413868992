import { describe, expect, it } from 'vitest';
import { KeyLayout } from './keys.js';
import { keySlot } from './slot.js';

describe('KeyLayout', () => {
  it('puts every key of a channel in the slot of the channel', () => {
    const keys = new KeyLayout('herald');
    const channel = 'merchant:m_42';
    const slot = keys.slot(channel);
    for (const key of [keys.stream(channel), keys.meta(channel), keys.dedupe(channel, 'evt_{1}'), keys.pubsub(channel)]) {
      expect(keySlot(key)).toBe(slot);
    }
    expect(keys.stream(channel)).toBe('herald:{merchant:m_42}:s');
    expect(keys.meta(channel)).toBe('herald:{merchant:m_42}:m');
    expect(keys.dedupe(channel, 'evt_1')).toBe('herald:{merchant:m_42}:d:evt_1');
    expect(keys.pubsub(channel)).toBe('herald:{merchant:m_42}');
  });

  it('refuses a prefix that would move the hash tag', () => {
    expect(() => new KeyLayout('a{b')).toThrow(TypeError);
    expect(() => new KeyLayout('a}b')).toThrow(TypeError);
    expect(() => new KeyLayout('a b')).toThrow(TypeError);
    expect(() => new KeyLayout('')).toThrow(TypeError);
    expect(new KeyLayout('herald-test:x:1').prefix).toBe('herald-test:x:1');
  });
});
