import { describe, expect, it } from 'vitest';
import { INGEST_CONSUMER_GROUP, KeyLayout } from './keys.js';
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

describe('KeyLayout beyond channels', () => {
  // These names are a contract (operators, producers XADDing to the ingest stream,
  // keys left by an older version): a change here must be deliberate.
  it('names the event, admission and ingest keys as they have always been named', () => {
    const keys = new KeyLayout('herald');
    expect(keys.event('evt_1')).toBe('herald:idem:evt_1');
    expect(keys.admission('edge-1')).toEqual({
      nodes: '{herald:admission}:nodes',
      total: '{herald:admission}:total',
      users: '{herald:admission}:users',
      node: '{herald:admission}:node:edge-1',
      nodePrefix: '{herald:admission}:node:',
    });
    expect(keys.ingestStream).toBe('herald:ingest');
    expect(keys.ingestDeadLetter).toBe('herald:ingest:dead');
    expect(INGEST_CONSUMER_GROUP).toBe('herald-ingest');
    expect(keys.revocation('alice')).toBe('herald:revoked:alice');
    expect(keys.revocationsChannel).toBe('herald:revocations');
  });

  it('puts every admission key in one slot, so its scripts run on a cluster', () => {
    const { nodes, total, users, node } = new KeyLayout('herald').admission('edge-1');
    const slots = new Set([nodes, total, users, node, new KeyLayout('herald').admission('edge-2').node].map(keySlot));
    expect(slots.size).toBe(1);
  });
});
