/**
 * soak: does anything grow or get lost over time? 3 edge nodes on one Redis, 10,000
 * connections on 1,000 channels, 1,000 events/s through ingest, and 1% of the
 * connections churning every second (closed, then opened again on the same node with
 * the same channel), for `--minutes N` (default 30). Every 10 s each edge's /metrics is
 * sampled: RSS, V8 heap, active handles, event-loop delay (p99) and lag, and the delivery
 * lag (publish to send) over the interval.
 *
 * It fails when memory grows: the least-squares slope of an edge's RSS over the second
 * half of the run (the first half holds warm-up: JIT, heap growth to its working size)
 * above 1 MiB per 10 minutes; or when an event is lost: the first 1,000 clients (one
 * per channel, never churned) must together receive exactly the events ingest accepted.
 *
 * Not part of `pnpm bench all` (nor CI): `pnpm bench soak --minutes 30`.
 */
import { Fleet, Publisher } from '../lib/fleet.mjs';
import { API_KEY, sleep } from '../lib/proc.mjs';
import { startSystem } from '../lib/systems.mjs';

export const description = 'memory and lag over time under churn: 3 edges, 10k connections, 1,000 events/s, 1% churn per second';

const MIB = 2 ** 20;
/** The growth allowed: RSS slope over the second half, per edge. */
export const SLOPE_LIMIT_BYTES_PER_10_MIN = MIB;

export function defaults(quick) {
  return {
    minutes: quick ? 2 : 30,
    connections: quick ? 2000 : 10000,
    channelCount: quick ? 200 : 1000,
    nodes: 3,
    rate: quick ? 300 : 1000,
    churnShare: 0.01,
    sampleMs: 10_000,
    topology: 'redis',
  };
}

/** The values of one /metrics scrape this scenario reads; the lag histogram as totals. */
async function scrape(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    return match ? Number(match[1]) : NaN;
  };
  // Summed over event types: {le: count} of herald_edge_delivery_lag_seconds.
  const buckets = new Map();
  for (const match of text.matchAll(/^herald_edge_delivery_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} ([0-9.eE+-]+)$/gm)) {
    buckets.set(match[1], (buckets.get(match[1]) ?? 0) + Number(match[2]));
  }
  let lagSum = 0;
  let lagCount = 0;
  for (const match of text.matchAll(/^herald_edge_delivery_lag_seconds_(sum|count)(?:\{[^}]*\})? ([0-9.eE+-]+)$/gm)) {
    if (match[1] === 'sum') lagSum += Number(match[2]);
    else lagCount += Number(match[2]);
  }
  return {
    rss: value('herald_process_resident_memory_bytes'),
    heapUsed: value('herald_nodejs_heap_size_used_bytes'),
    // What V8 has reserved for its heap, and memory outside it (Buffers, ws and zlib):
    // they tell V8 sizing its heap apart from native growth when RSS moves.
    heapTotal: value('herald_nodejs_heap_size_total_bytes'),
    external: value('herald_nodejs_external_memory_bytes'),
    handles: value('herald_nodejs_active_handles_total'),
    eventLoopDelayP99Ms: value('herald_nodejs_eventloop_lag_p99_seconds') * 1000,
    eventLoopLagMs: value('herald_nodejs_eventloop_lag_seconds') * 1000,
    connections: value('herald_edge_connections'),
    lag: { sum: lagSum, count: lagCount, buckets },
  };
}

/** Delivery lag over an interval, from two scrapes of the histogram: mean and p99 (bucket bound). */
function lagBetween(before, after) {
  const count = after.count - before.count;
  if (!(count > 0)) return { meanMs: null, p99Ms: null };
  const bounds = [...after.buckets.keys()].filter((le) => le !== '+Inf').map(Number).sort((a, b) => a - b);
  let p99 = null;
  for (const le of bounds) {
    const key = String(le);
    if ((after.buckets.get(key) ?? 0) - (before.buckets.get(key) ?? 0) >= 0.99 * count) {
      p99 = le * 1000;
      break;
    }
  }
  return { meanMs: Math.round(((after.sum - before.sum) / count) * 1e5) / 100, p99Ms: p99 };
}

/** Least-squares slope of [[t seconds, value]]: value per second. */
export function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [t]) => a + t, 0) / n;
  const my = points.reduce((a, [, v]) => a + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - mx) * (v - my);
    den += (t - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export async function run(options, progress) {
  const durationMs = Math.round(options.minutes * 60_000);
  const label = `soak ${options.minutes} min, ${options.nodes} edges, ${options.connections} connections, ${options.rate} events/s, ${Math.round(options.churnShare * 100)}% churn/s`;
  progress(`${label}: starting`);
  const sut = await startSystem('herald', { topology: 'redis', nodes: options.nodes, profileDir: options.profileDir });
  // The generators and the publisher stop by themselves at a deadline: past the soak.
  const deadlineMs = durationMs + 10 * 60_000;
  let fleet;
  let publisher;
  try {
    const processes = Math.max(1, Math.ceil(options.connections / 2500));
    fleet = await Fleet.open({
      processes,
      deadlineMs,
      total: options.connections,
      system: sut,
      ports: sut.edges.map((e) => e.port),
      channelsOf: { prefix: 'bench:c', modulo: options.channelCount },
      sampleConnections: 0,
      concurrency: Math.floor(400 / processes),
      reportMs: 1000,
    });
    const ready = await fleet.waitReady({ progress: (m) => progress(`${label}: ${m}`) });
    progress(`${label}: ${ready.live} clients live in ${(ready.openMs / 1000).toFixed(1)} s`);
    // One sentinel per channel (clients 0..channels-1), spread over the edges, never churned.
    const sentinels = options.channelCount;
    publisher = await Publisher.start({
      deadlineMs,
      target: sut.meta.publish,
      urls: sut.ingest.map((p) => p.url),
      apiKey: API_KEY,
      flow: 'rate',
      rate: options.rate,
      batch: 10,
      concurrency: 32,
      channels: options.channelCount,
    });
    const churnPerSecond = options.connections * options.churnShare;
    fleet.churn(churnPerSecond, sentinels);
    const startedAt = Date.now();

    const samples = [];
    let previous = await Promise.all(sut.edges.map((edge) => scrape(edge.url)));
    while (Date.now() - startedAt < durationMs) {
      await sleep(Math.min(options.sampleMs, durationMs - (Date.now() - startedAt)));
      const now = await Promise.all(sut.edges.map((edge) => scrape(edge.url)));
      const t = Math.round((Date.now() - startedAt) / 1000);
      samples.push({
        t,
        edges: now.map((s, i) => {
          const lag = lagBetween(previous[i].lag, s.lag);
          return { rss: s.rss, heapUsed: s.heapUsed, heapTotal: s.heapTotal, external: s.external, handles: s.handles, eventLoopDelayP99Ms: round2(s.eventLoopDelayP99Ms), eventLoopLagMs: round2(s.eventLoopLagMs), connections: s.connections, deliveryLagMeanMs: lag.meanMs, deliveryLagP99Ms: lag.p99Ms };
        }),
      });
      previous = now;
      const e = samples.at(-1).edges;
      progress(`${label}: t+${t}s RSS MiB ${e.map((x) => (x.rss / MIB).toFixed(1)).join('/')}, heap MiB ${e.map((x) => `${(x.heapUsed / MIB).toFixed(1)} of ${(x.heapTotal / MIB).toFixed(1)}`).join('/')}, external MiB ${e.map((x) => (x.external / MIB).toFixed(1)).join('/')}, handles ${e.map((x) => x.handles).join('/')}, loop p99 ms ${e.map((x) => x.eventLoopDelayP99Ms).join('/')}, lag mean ms ${e.map((x) => x.deliveryLagMeanMs).join('/')}; ${publisher.accepted} accepted, ${fleet.churned} churned`);
    }

    // Quiesce: no more churn, no more events; the sentinels must catch up with ingest.
    fleet.churn(0, sentinels);
    await publisher.stop();
    const accepted = publisher.accepted;
    const settleUntil = Date.now() + 30_000;
    await fleet.refresh();
    while (fleet.sentinelFrames < accepted && Date.now() < settleUntil) {
      await sleep(250);
      await fleet.refresh();
    }
    const received = fleet.sentinelFrames;
    const loss = {
      accepted,
      rejected: publisher.last.rejected,
      publisherErrors: publisher.last.errors,
      sentinelClients: sentinels,
      received,
      lost: Math.max(0, accepted - received),
      extra: Math.max(0, received - accepted),
      churned: fleet.churned,
      lastError: publisher.last.lastError || undefined,
    };

    // Per edge: the RSS slope over the second half, and where each series started and ended.
    const half = samples.filter((s) => s.t >= durationMs / 2000);
    const rows = sut.edges.map((_edge, i) => {
      const bytesPerSecond = slope(half.map((s) => [s.t, s.edges[i].rss]));
      const heapPerSecond = slope(half.map((s) => [s.t, s.edges[i].heapUsed]));
      const first = samples[0]?.edges[i];
      const last = samples.at(-1)?.edges[i];
      const lags = samples.map((s) => s.edges[i].deliveryLagP99Ms).filter((v) => v !== null);
      return {
        system: 'herald',
        edge: i,
        rssSlopeBytesPer10Min: Math.round(bytesPerSecond * 600),
        heapSlopeBytesPer10Min: Math.round(heapPerSecond * 600),
        rssFirstBytes: first?.rss,
        rssLastBytes: last?.rss,
        heapFirstBytes: first?.heapUsed,
        heapLastBytes: last?.heapUsed,
        handlesFirst: first?.handles,
        handlesLast: last?.handles,
        eventLoopDelayP99MaxMs: Math.max(...samples.map((s) => s.edges[i].eventLoopDelayP99Ms)),
        deliveryLagP99MaxMs: lags.length ? Math.max(...lags) : null,
      };
    });
    const growing = rows.filter((r) => r.rssSlopeBytesPer10Min > SLOPE_LIMIT_BYTES_PER_10_MIN);
    const failures = [
      ...growing.map((r) => `edge ${r.edge}: RSS grows ${(r.rssSlopeBytesPer10Min / MIB).toFixed(2)} MiB per 10 min over the second half (limit ${SLOPE_LIMIT_BYTES_PER_10_MIN / MIB} MiB)`),
      ...(loss.lost > 0 ? [`${loss.lost} of ${loss.accepted} accepted events never reached the sentinel clients`] : []),
      ...(loss.extra > 0 ? [`the sentinel clients received ${loss.extra} events more than were accepted (duplicates)`] : []),
    ];
    for (const r of rows) progress(`${label}: edge ${r.edge} RSS slope ${(r.rssSlopeBytesPer10Min / MIB).toFixed(3)} MiB/10 min, heap slope ${(r.heapSlopeBytesPer10Min / MIB).toFixed(3)} MiB/10 min, handles ${r.handlesFirst} -> ${r.handlesLast}`);
    progress(`${label}: ${loss.accepted} accepted, ${loss.received} received by the sentinels, lost ${loss.lost}, ${loss.churned} connections churned${failures.length ? `; FAILED: ${failures.join('; ')}` : '; passed'}`);
    return { rows, samples, loss, slopeLimitBytesPer10Min: SLOPE_LIMIT_BYTES_PER_10_MIN, passed: failures.length === 0, failures, failed: failures.length > 0 };
  } finally {
    await publisher?.stop();
    await publisher?.exit();
    await fleet?.exit();
    await sut.stop();
  }
}

function round2(v) {
  return Number.isFinite(v) ? Math.round(v * 100) / 100 : null;
}
