/**
 * Throughput measurements, shared by `fanout` and `channels`: start a system, connect
 * `size` clients (client i subscribes to channel i % channels), then for each batch
 * size publish in a closed loop (batches of `batch` events per HTTP request, spread
 * over the channels) and measure deliveries per second and the edge's CPU per delivery.
 */
import { Fleet, Publisher } from './fleet.mjs';
import { closedLoop, fmt, serverRss, waitForQuiet } from './measure.mjs';
import { API_KEY, sleep } from './proc.mjs';
import { startSystem } from './systems.mjs';

/** Events the closed loop may run ahead of the clients whatever their rate (see measureBatch). */
const MIN_EVENTS_AHEAD = 50;

export async function measureThroughput(system, options, progress) {
  const { size, channels, batches, topology = 'memory', perProcess = 2500, profileDir, env } = options;
  const setup = `${system} N=${size} channels=${channels}`;
  progress(`${setup}: starting`);
  const rows = [];
  const sut = await startSystem(system, { topology, nodes: 1, profileDir, env });
  let fleet;
  try {
    const edge = sut.edges[0];
    const processes = Math.max(1, Math.ceil(size / perProcess));
    fleet = await Fleet.open({
      processes,
      total: size,
      system: sut,
      ports: [edge.port],
      channelsOf: { prefix: 'bench:c', modulo: channels },
      sampleConnections: Math.max(10, Math.ceil(200 / processes)),
      // Fewer handshakes in flight than the server's listen backlog (511).
      concurrency: Math.floor(400 / processes),
      reportMs: 50,
    });
    const ready = await fleet.waitReady({ progress: (m) => progress(`${setup}: ${m}`) });
    progress(`${setup}: ${ready.live} clients live in ${(ready.openMs / 1000).toFixed(1)} s`);
    const otherPids = [...sut.ingest.filter((p) => p !== edge).map((p) => p.pid), ...(sut.redis ? [sut.redis.pid] : [])];
    const ownPids = [edge.pid, ...otherPids, ...fleet.workers.map((w) => w.child.pid)];
    for (const batch of batches) {
      rows.push(await measureBatch({ system, sut, fleet, edge, otherPids, ownPids, batch, options, progress, label: `${setup} batch=${batch}` }));
      // Let the clients drain what is still queued before the next batch size.
      await sleep(500);
    }
    return rows;
  } finally {
    await fleet?.exit();
    await sut.stop();
  }
}

async function measureBatch({ system, sut, fleet, edge, otherPids, ownPids, batch, options, progress, label }) {
  const { size, channels, warmupMs, measureMs, windowMs = 200, publishConcurrency = 8 } = options;
  await waitForQuiet({ ownPids, progress: (m) => progress(`${label}: ${m}`) });
  const publisher = await Publisher.start({
    target: sut.meta.publish,
    urls: sut.ingest.map((p) => p.url),
    apiKey: API_KEY,
    flow: 'credit',
    batch,
    concurrency: publishConcurrency,
    channels,
    ...(options.eventType ? { eventType: options.eventType } : {}),
  });
  try {
    const fanout = size / channels;
    const result = await closedLoop({
      fleet,
      publisher,
      fanout,
      windowMs,
      // A floor that does not depend on the measured rate: with only 2 publishes ahead, a
      // server whose cost is per write (10k sockets) starts at ~10 frames per write, and a
      // window proportional to its rate climbs from there for seconds (bench/analysis.md,
      // "Counted"). 50 events ahead is the ceiling state's batch; the same for every system.
      minAhead: Math.max(2 * batch, MIN_EVENTS_AHEAD) * fanout,
      warmupMs,
      measureMs,
      serverPids: [edge.pid],
      otherPids,
      progress,
      label,
    });
    if (process.env.BENCH_SPREAD) progress(`${label}: frames per connection ${JSON.stringify(await fleet.spread())}`);
    progress(`${label}: ${fmt(result.deliveriesPerSec)} deliveries/s, ${result.serverCpuUsPerDelivery} us CPU per delivery, server ${result.serverCpuPercent[0]}%, background ${result.backgroundCpuPercent}%`);
    return {
      system,
      subscribers: size,
      channels,
      batch,
      ...result,
      serverRssBytes: serverRss([edge.pid])[0],
      publisherErrors: publisher.last.errors + publisher.last.rejected,
      publisherLastError: publisher.last.lastError || undefined,
    };
  } finally {
    await publisher.stop();
    await publisher.exit();
  }
}

/** Herald against the peers for rows grouped by `keyOf`. */
export function ratiosOf(rows, keyOf, metric = 'deliveriesPerSec', cpuMetric = 'serverCpuUsPerDelivery') {
  const out = [];
  for (const group of new Set(rows.map(keyOf))) {
    const of = (system) => rows.find((r) => keyOf(r) === group && r.system === system);
    const herald = of('herald');
    const raw = of('raw');
    const sio = of('sio');
    if (!herald) continue;
    const ratio = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : null);
    out.push({
      group,
      heraldVsRaw: ratio(herald[metric], raw?.[metric]),
      heraldVsSocketIo: ratio(herald[metric], sio?.[metric]),
      cpuVsRaw: ratio(herald[cpuMetric], raw?.[cpuMetric]),
      cpuVsSocketIo: ratio(herald[cpuMetric], sio?.[cpuMetric]),
    });
  }
  return out;
}
