import { describe, expect, it } from 'vitest';
import { MemoryAdmission } from './admission-memory.js';

describe('MemoryAdmission', () => {
  it('admits up to the global limit and never counts a refusal', async () => {
    const admission = new MemoryAdmission({ maxConnections: 2, maxConnectionsPerUser: null });
    expect(await admission.acquire('a')).toEqual({ admitted: true });
    expect(await admission.acquire('b')).toEqual({ admitted: true });
    expect(await admission.acquire('c')).toEqual({ admitted: false, reason: 'global-limit' });
    expect(await admission.count()).toBe(2);
    admission.release('a');
    expect(await admission.acquire('c')).toEqual({ admitted: true });
  });

  it('limits connections per user', async () => {
    const admission = new MemoryAdmission({ maxConnections: null, maxConnectionsPerUser: 1 });
    expect(await admission.acquire('u')).toEqual({ admitted: true });
    expect(await admission.acquire('u')).toEqual({ admitted: false, reason: 'user-limit' });
    expect(await admission.acquire('v')).toEqual({ admitted: true });
    expect(await admission.acquire('')).toEqual({ admitted: true });
    expect(await admission.acquire('')).toEqual({ admitted: true });
    admission.release('u');
    expect(await admission.acquire('u')).toEqual({ admitted: true });
  });
});
