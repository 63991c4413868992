/**
 * `herald start`'s engines: everything in this process's memory. A leaf: it imports the
 * shared parts only, never the Redis wiring.
 */
import { MemoryAdmission, MemoryRevocations } from '@herald/admission';
import { MemoryBroker } from '@herald/broker';
import type { HeraldConfig } from '@herald/runtime';
import { admissionLimits, retentionSettings, type Components } from './component-parts.js';

export function createMemoryComponents(config: HeraldConfig): Components {
  return {
    broker: new MemoryBroker({ retention: retentionSettings(config) }),
    admission: new MemoryAdmission(admissionLimits(config)),
    revocations: new MemoryRevocations(),
    close: async () => {},
  };
}
