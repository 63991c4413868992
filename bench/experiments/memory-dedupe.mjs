#!/usr/bin/env node
/**
 * Experiment (not a scenario): cost of one publish into the in-memory broker (the
 * engine of `herald start`) as a channel's idempotency keys accumulate. Every access
 * to a channel sweeps its whole dedupe map for expired keys, so a publish costs
 * O(keys published in the dedupe window) — 10 minutes by default.
 *
 *   node bench/experiments/memory-dedupe.mjs
 */
import { DEFAULT_RETENTION } from '../../packages/broker/dist/broker.js';
import { MemoryBrokerStore } from '../../packages/broker/dist/memory-store.js';

const store = new MemoryBrokerStore(DEFAULT_RETENTION);
const head = '{"type":"bench.tick","id":"e","timestamp":"2026-11-22T00:00:00.000Z","channel":"bench:c0","seq":"';
const tail = '","data":{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}';
let published = 0;
// Bounded: filling the window is itself quadratic, so stop at 20,000 keys (a channel
// publishing 33 events/s for the 10-minute window). Each level times 500 publishes.
for (const level of [1_000, 5_000, 10_000, 20_000]) {
  while (published < level) store.publish('bench:c0', head, tail, `evt_${published++}`);
  const started = performance.now();
  for (let i = 0; i < 500; i++) store.publish('bench:c0', head, tail, `evt_${published++}`);
  const us = ((performance.now() - started) * 1000) / 500;
  process.stdout.write(`${String(level).padStart(6)} keys in the dedupe window: ${us.toFixed(1)} us per publish\n`);
}
