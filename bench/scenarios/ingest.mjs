/**
 * ingest: events per second accepted by one ingest process on Redis (202/207 answered,
 * so every event is in its channel's history), single events and batches. Publisher
 * processes keep a fixed number of requests in flight over keep-alive connections.
 *
 * Event types: `bench.tick` routed to one channel (of 1,000), and the built-in
 * `payment.created` routed by the default routes to three channels (merchant, payment,
 * order). Peers: an HTTP endpoint that PUBLISHes to Redis (raw) or emits through the
 * Socket.IO Redis adapter (sio): no validation, idempotency or history, so they are an
 * upper bound for "HTTP in, Redis out" in Node rather than like-for-like.
 *
 * Topologies: Herald runs on one Redis and on a 3-master Redis Cluster in the same run
 * (rows "herald (one Redis)" and "herald (3-shard cluster)"; the peers on one Redis
 * only). Redis CPU is summed over every Redis process (the cluster's masters), and
 * divided by publications (events x channels per event) it is the per-publication cost
 * the sizing model scales by. `--topology redis|redis-cluster` runs one of them.
 */
import { Publisher } from '../lib/fleet.mjs';
import { fmt, openLoop, waitForQuiet } from '../lib/measure.mjs';
import { API_KEY } from '../lib/proc.mjs';
import { startSystem } from '../lib/systems.mjs';

export const description = 'events per second accepted by one ingest process (one Redis, and a 3-shard Redis Cluster for Herald), single and batch';

export function defaults(quick) {
  return {
    systems: ['herald', 'raw', 'sio'],
    modes: [
      { name: 'single', single: true, batch: 1, concurrency: 32, eventType: 'bench.tick' },
      { name: 'batch-100', single: false, batch: 100, concurrency: 8, eventType: 'bench.tick' },
      { name: 'batch-100 payment.created (3 channels)', single: false, batch: 100, concurrency: 8, eventType: 'payment.created', heraldOnly: true },
    ],
    topologies: ['redis', 'redis-cluster'],
    publishers: 2,
    channelCount: 1000,
    warmupMs: quick ? 1500 : 3000,
    measureMs: quick ? 3000 : 8000,
  };
}

/** Channels the default routes give one event of the type (bench.* -> 1, payment.* -> 3). */
const CHANNELS_PER_EVENT = { 'bench.tick': 1, 'payment.created': 3 };

const TOPOLOGY_NAMES = { redis: 'one Redis', 'redis-cluster': '3-shard cluster' };

export async function run(options, progress) {
  const rows = [];
  const topologies = options.topology ? [options.topology] : options.topologies;
  for (const mode of options.modes) {
    for (const system of options.systems) {
      if (mode.heraldOnly && system !== 'herald') continue;
      for (const topology of topologies) {
        if (topology !== 'redis' && system !== 'herald') continue;
        rows.push(await measureOne(options, progress, mode, system, topology));
      }
    }
  }
  const ratios = [];
  for (const mode of options.modes.filter((m) => !m.heraldOnly)) {
    const of = (system) => rows.find((r) => r.system === system && r.mode === mode.name && r.topology === 'redis');
    const herald = of('herald');
    const ratio = (other) => (herald && other ? Math.round((herald.eventsPerSec / other.eventsPerSec) * 100) / 100 : null);
    ratios.push({ group: `events/s, ${mode.name}`, heraldVsRaw: ratio(of('raw')), heraldVsSocketIo: ratio(of('sio')) });
  }
  // Herald on a 3-shard cluster against one Redis, per mode (the sizing model reads it).
  const topologyComparison = [];
  for (const mode of options.modes) {
    const of = (topology) => rows.find((r) => r.system === 'herald' && r.mode === mode.name && r.topology === topology);
    const [one, sharded] = [of('redis'), of('redis-cluster')];
    if (one && sharded) {
      topologyComparison.push({
        mode: mode.name,
        clusterVsOneRedisEventsPerSec: Math.round((sharded.eventsPerSec / one.eventsPerSec) * 100) / 100,
        redisCpuUsPerPublication: { oneRedis: one.redisCpuUsPerPublication, cluster: sharded.redisCpuUsPerPublication },
      });
    }
  }
  return { rows, ratios, topologyComparison };
}

async function measureOne(options, progress, mode, system, topology) {
  const label = `${system} (${TOPOLOGY_NAMES[topology]}) ${mode.name}`;
  progress(`${label}: starting`);
  const sut = await startSystem(system, { topology, nodes: 0, profileDir: options.profileDir });
  const publishers = [];
  try {
    const ingest = sut.ingest[0];
    await waitForQuiet({ ownPids: [ingest.pid, ...sut.redisPids], progress: (m) => progress(`${label}: ${m}`) });
    for (let i = 0; i < options.publishers; i++) {
      publishers.push(
        await Publisher.start({
          target: sut.meta.publish,
          urls: [ingest.url],
          apiKey: API_KEY,
          flow: 'max',
          single: mode.single,
          batch: mode.batch,
          concurrency: Math.max(1, Math.floor(mode.concurrency / options.publishers)),
          channels: options.channelCount,
          channelOffset: 0,
          eventType: mode.eventType,
        }),
      );
    }
    const combined = combine(publishers);
    const result = await openLoop({ fleet: undefined, publisher: combined, warmupMs: options.warmupMs, measureMs: options.measureMs, serverPids: [ingest.pid], otherPids: sut.redisPids, progress, label });
    const request = combined.request.summaryMs();
    const publicationsPerSec = result.eventsPerSec * (CHANNELS_PER_EVENT[mode.eventType] ?? 1);
    const redisCpuUsPerPublication = publicationsPerSec > 0 ? Math.round((result.otherCpuPercent / 100 / publicationsPerSec) * 1e6 * 10) / 10 : null;
    progress(`${label}: ${fmt(result.eventsPerSec)} events/s accepted, ${result.serverCpuUsPerEvent} us ingest CPU per event, Redis ${result.otherCpuPercent}% CPU (${redisCpuUsPerPublication} us per publication), request p50 ${request.p50} ms p99 ${request.p99} ms`);
    return {
      system,
      topology,
      redisProcesses: sut.redisPids.length,
      mode: mode.name,
      eventType: mode.eventType,
      batch: mode.batch,
      inFlight: mode.concurrency,
      eventsPerSec: result.eventsPerSec,
      ingestCpuPercent: result.serverCpuPercent[0],
      ingestCpuUsPerEvent: result.serverCpuUsPerEvent,
      redisCpuPercent: result.otherCpuPercent,
      redisCpuUsPerPublication,
      publisherCpuPercent: result.publisherCpuPercent,
      backgroundCpuPercent: result.backgroundCpuPercent,
      requestLatencyMs: request,
      rejected: publishers.reduce((sum, p) => sum + p.last.rejected + p.last.errors, 0),
      lastError: publishers.map((p) => p.last.lastError).find(Boolean),
    };
  } finally {
    for (const p of publishers) {
      await p.stop();
      await p.exit();
    }
    await sut.stop();
  }
}

/** Several publisher processes seen as one by the measurement. */
function combine(publishers) {
  const request = publishers[0].request;
  for (const p of publishers.slice(1)) {
    p.request = request;
  }
  return {
    request,
    get accepted() {
      return publishers.reduce((sum, p) => sum + p.accepted, 0);
    },
    cpuSeconds() {
      return publishers.reduce((sum, p) => sum + p.cpuSeconds(), 0);
    },
  };
}
