/**
 * Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384.
 * The engine needs slots to group SSUBSCRIBE calls (one slot per call) and to split a
 * publish batch into one pipeline per node. Computed by `cluster-key-slot`, the function
 * ioredis routes with, so Herald and its client always agree on a key's slot.
 */
import { createRequire } from 'node:module';

// A CommonJS package without type declarations: loaded through require, typed here.
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

export const SLOT_COUNT = 16384;

/** The slot of a key, following Redis's hash tag rule: the first non-empty `{...}`. */
export function keySlot(key: string): number {
  return calculateSlot(key);
}
