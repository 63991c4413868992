/**
 * channels: 10k connections on 1,000 channels, one subscription each (10 subscribers
 * per channel). Events go round-robin over the channels in batches of `--batch`; the
 * per-event work (ingest, broker, framing) now counts as much as the per-socket write.
 */
import { measureThroughput, ratiosOf } from '../lib/throughput.mjs';

export const description = '10k connections on 1,000 channels, one subscription each: deliveries and events per second';

export function defaults(quick) {
  return {
    systems: ['herald', 'raw', 'sio'],
    sizes: quick ? [2000] : [10000],
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
