/**
 * latency: from the producer's HTTP request to the client's receipt, across 3 edge
 * nodes on Redis: 10k connections (spread over the nodes) on 1,000 channels, 1,000
 * events/s posted one per request to the ingest process. Every delivery's latency is
 * recorded (the event carries its send time; clients read it from the frame).
 *
 * Peers in the same topology: Socket.IO nodes with the Redis adapter fed by a Socket.IO
 * emitter process; raw ws nodes on Redis pub/sub fed by an HTTP -> PUBLISH process.
 */
import { Fleet, Publisher } from '../lib/fleet.mjs';
import { fmt, openLoop, waitForQuiet } from '../lib/measure.mjs';
import { API_KEY } from '../lib/proc.mjs';
import { startSystem } from '../lib/systems.mjs';

export const description = 'ingest HTTP to client receipt across 3 edge nodes on Redis: p50, p99, p99.9, max';

export function defaults(quick) {
  return {
    systems: ['herald', 'raw', 'sio'],
    connections: quick ? 1500 : 10000,
    channelCount: quick ? 150 : 1000,
    nodes: 3,
    rate: quick ? 300 : 1000,
    warmupMs: quick ? 2000 : 5000,
    measureMs: quick ? 4000 : 20000,
    topology: 'redis',
  };
}

export async function run(options, progress) {
  const rows = [];
  for (const system of options.systems) {
    const label = `${system} ${options.nodes} nodes, ${options.connections} connections, ${options.rate} events/s`;
    progress(`${label}: starting`);
    const sut = await startSystem(system, { topology: 'redis', nodes: options.nodes, profileDir: options.profileDir });
    let fleet;
    let publisher;
    try {
      const processes = Math.max(1, Math.ceil(options.connections / 2500));
      fleet = await Fleet.open({
        processes,
        total: options.connections,
        system: sut,
        ports: sut.edges.map((e) => e.port),
        channelsOf: { prefix: 'bench:c', modulo: options.channelCount },
        sampleConnections: options.connections, // every delivery
        concurrency: Math.floor(400 / processes),
        reportMs: 250,
      });
      const ready = await fleet.waitReady({ progress: (m) => progress(`${label}: ${m}`) });
      progress(`${label}: ${ready.live} clients live in ${(ready.openMs / 1000).toFixed(1)} s`);
      const edgePids = sut.edges.map((e) => e.pid);
      const otherPids = [...sut.ingest.map((p) => p.pid), sut.redis.pid];
      await waitForQuiet({ ownPids: [...edgePids, ...otherPids, ...fleet.workers.map((w) => w.child.pid)], progress: (m) => progress(`${label}: ${m}`) });
      publisher = await Publisher.start({
        target: sut.meta.publish,
        urls: sut.ingest.map((p) => p.url),
        apiKey: API_KEY,
        flow: 'rate',
        rate: options.rate,
        single: true,
        batch: 1,
        concurrency: 256,
        channels: options.channelCount,
      });
      const result = await openLoop({ fleet, publisher, warmupMs: options.warmupMs, measureMs: options.measureMs, serverPids: edgePids, otherPids, progress, label });
      const latency = result.latencyMs;
      const expected = (result.eventsPerSec * options.connections) / options.channelCount;
      progress(`${label}: p50 ${latency.p50} ms, p99 ${latency.p99} ms, p99.9 ${latency.p999} ms, max ${latency.max} ms over ${fmt(latency.count)} deliveries (${fmt(result.deliveriesPerSec)}/s of ${fmt(expected)}/s expected)`);
      rows.push({
        system,
        nodes: options.nodes,
        connections: options.connections,
        channels: options.channelCount,
        targetRate: options.rate,
        ...result,
        requestLatencyMs: publisher.request.summaryMs(),
        publisherErrors: publisher.last.errors + publisher.last.rejected,
        publisherLastError: publisher.last.lastError || undefined,
      });
    } finally {
      await publisher?.stop();
      await publisher?.exit();
      await fleet?.exit();
      await sut.stop();
    }
  }
  const herald = rows.find((r) => r.system === 'herald');
  const ratio = (other, q) => (herald && other ? Math.round((herald.latencyMs[q] / other.latencyMs[q]) * 100) / 100 : null);
  const raw = rows.find((r) => r.system === 'raw');
  const sio = rows.find((r) => r.system === 'sio');
  return { rows, ratios: [{ group: 'p99 latency (lower is better)', heraldVsRaw: ratio(raw, 'p99'), heraldVsSocketIo: ratio(sio, 'p99') }] };
}
