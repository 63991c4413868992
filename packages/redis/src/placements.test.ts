import { describe, expect, it } from 'vitest';
import { Placements } from './placements.js';
import { keySlot } from './slot.js';

describe('Placements', () => {
  it('tells which channels a node ending or a moved slot took away, once', () => {
    const placements = new Placements();
    placements.record(['h:{a}', 'h:{b}'], 'n1:1', placements.ticket());
    placements.record(['h:{c}'], 'n2:1', placements.ticket());
    expect(placements.takeOnNode('n1:1').sort()).toEqual(['h:{a}', 'h:{b}']);
    expect(placements.takeOnNode('n1:1')).toEqual([]);
    // The slot map now names another owner for c's slot; an unknown owner proves nothing.
    const slotC = keySlot('h:{c}');
    expect(placements.takeMoved((slot) => (slot === slotC ? undefined : 'n2:1'))).toEqual([]);
    expect(placements.takeMoved((slot) => (slot === slotC ? 'n3:1' : 'n2:1'))).toEqual(['h:{c}']);
    expect(placements.size).toBe(0);
  });

  it('keeps the newest subscribe when replies arrive out of order', () => {
    const placements = new Placements();
    const older = placements.ticket();
    const newer = placements.ticket();
    placements.record(['h:{a}'], 'new:1', newer);
    placements.record(['h:{a}'], 'old:1', older);
    expect(placements.takeOnNode('old:1')).toEqual([]);
    expect(placements.take(['h:{a}', 'h:{z}'])).toEqual(['h:{a}']);
  });
});
