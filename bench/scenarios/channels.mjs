/**
 * channels: 1k and 10k connections on 1,000 channels, one subscription each (1 and 10
 * subscribers per channel: the two points give an edge's cost per event received and per
 * delivery when nothing coalesces, for the sizing model in bench/sizing.mjs). Events go round-robin over the channels in batches of `--batch`; the
 * per-event work (ingest, broker, framing) now counts as much as the per-socket write.
 */
import { measureThroughput, ratiosOf } from '../lib/throughput.mjs';

export const description = '10k connections on 1,000 channels, one subscription each: deliveries and events per second';

export function defaults(quick) {
  return {
    systems: ['herald', 'raw', 'sio'],
    sizes: quick ? [2000] : [1000, 10000],
    channelCount: quick ? 200 : 1000,
    batch: [100],
    warmupMs: quick ? 1500 : 2500,
    measureMs: quick ? 3000 : 8000,
    topology: 'redis',
  };
}

export async function run(options, progress) {
  const rows = [];
  for (const size of options.sizes) {
    for (const system of options.systems) {
      rows.push(...(await measureThroughput(system, { ...options, size, channels: options.channelCount, batches: options.batch }, progress)));
    }
  }
  return { rows, ratios: ratiosOf(rows, (r) => `N=${r.subscribers} channels=${r.channels} batch=${r.batch}`) };
}
