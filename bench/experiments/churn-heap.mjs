/**
 * Experiment: is memory retained per churned connection? One edge on Redis with a GC
 * hook (SIGUSR2 runs a full GC), 2,000 connections, 300 events/s, 10% of the connections
 * closed and opened again every second; the V8 heap after a full GC and RSS, every 20 s.
 * A JS leak per connection shows as a heap-after-GC that climbs with the churn count.
 *
 *   node bench/experiments/churn-heap.mjs [seconds=180]
 */
import { fileURLToPath } from 'node:url';
import { Fleet, Publisher } from '../lib/fleet.mjs';
import { API_KEY, heraldHeap, rssBytes, sleep } from '../lib/proc.mjs';
import { startSystem } from '../lib/systems.mjs';

const GC_HOOK = fileURLToPath(new URL('../lib/gc-hook.mjs', import.meta.url));
const seconds = Number(process.argv[2] ?? 180);
const sut = await startSystem('herald', { topology: 'redis', nodes: 1, nodeOptions: ['--expose-gc', '--import', GC_HOOK] });
const edge = sut.edges[0];
const fleet = await Fleet.open({ processes: 1, total: 2000, system: sut, ports: [edge.port], channelsOf: { prefix: 'bench:c', modulo: 200 }, sampleConnections: 0, concurrency: 200, reportMs: 1000 });
await fleet.waitReady();
const publisher = await Publisher.start({ target: sut.meta.publish, urls: sut.ingest.map((p) => p.url), apiKey: API_KEY, flow: 'rate', rate: 300, batch: 10, concurrency: 16, channels: 200 });
fleet.churn(200, 0);
const started = Date.now();
try {
  while (Date.now() - started < seconds * 1000) {
    await sleep(20_000);
    process.kill(edge.pid, 'SIGUSR2');
    await sleep(700);
    const heap = await heraldHeap(edge.url);
    await fleet.refresh();
    console.log(`t+${Math.round((Date.now() - started) / 1000)}s churned ${fleet.churned} heap after GC ${(heap.heapUsed / 2 ** 20).toFixed(2)} MiB, heap total ${(heap.heapTotal / 2 ** 20).toFixed(1)} MiB, RSS ${(rssBytes(edge.pid) / 2 ** 20).toFixed(1)} MiB`);
  }
} finally {
  await publisher.stop();
  await publisher.exit();
  await fleet.exit();
  await sut.stop();
}
