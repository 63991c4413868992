/**
 * Dropped links under load: 3 edge nodes on one real Redis, 1,000 SDK clients (4
 * processes, 10 per merchant over 100 merchant channels), ingest publishing batches at
 * 250 events/s, and every 10 to 20 s, for over a minute, a random tenth of the client
 * connections cut abruptly: the client process destroys the TCP socket (half of them
 * with a RST), so no close frame is sent either way, as when a NAT entry or a mobile
 * link dies. The SDK sees 1006, reconnects (to another node of its list) and resumes
 * with `since`.
 *
 * It must show: zero lost, zero duplicated, in order, for every client (the publisher's
 * 202 list per merchant; quiescence = a final marker event per merchant).
 */
import { afterAll, expect, it } from 'vitest';
import { Publisher, Swarm, connectionsPerEdge, heavyScenarioLock, maxPerSecond, markersFor, merchantsOf, percentile, perSecondLine, startCluster, type Cluster } from './harness.js';

const EDGES = 3;
const MERCHANTS = 100;
const CLIENTS_PER_MERCHANT = 10;
const PROCESSES = 4;
const RATE = 250;
const CUT_FRACTION = 0.1;
const FIRST_CUT_MS = 1_000;
const CUTTING_FOR_MS = 60_000;
const MIN_GAP_MS = 10_000;
const MAX_GAP_MS = 20_000;
const SETTLE_MS = 3_000;

let cluster: Cluster | undefined;
let swarm: Swarm | undefined;
let publisher: Publisher | undefined;
let releaseLock: (() => void) | undefined;

afterAll(async () => {
  await publisher?.stop();
  await swarm?.stop();
  await cluster?.stop();
  releaseLock?.();
});

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

it('a random tenth of the links cut every 10-20 s for over a minute: zero lost, zero duplicated', { timeout: 240_000 }, async () => {
  const waitStart = Date.now();
  releaseLock = await heavyScenarioLock(); // the other 1,000-client scenario runs first if it holds it
  if (Date.now() - waitStart > 1_000) console.log(`[dropped] waited ${Date.now() - waitStart} ms for the other heavy scenario`);
  const testStart = Date.now();
  cluster = await startCluster({ edges: EDGES });
  const run = Date.now().toString(36);
  const merchants = merchantsOf(MERCHANTS, run);
  const markerOf = markersFor(merchants, run);
  const started = await Swarm.start({ urls: cluster.urls, merchants, clientsPerMerchant: CLIENTS_PER_MERCHANT, processes: PROCESSES, markerOf });
  swarm = started.swarm;
  expect(started.failed).toBe(0);
  const total = swarm.total;
  // A random first pick from the list spreads the clients evenly (~333 per node).
  for (const url of cluster.urls) expect(started.nodes[url] ?? 0).toBeGreaterThan((0.75 * total) / EDGES);
  console.log(`[dropped] ${total} clients subscribed in ${Date.now() - testStart} ms; per node (edges 0..${EDGES - 1}): ${JSON.stringify(cluster.urls.map((url) => started.nodes[url] ?? 0))}`);

  publisher = new Publisher({ ingestUrl: cluster.ingest.url, merchants, rate: RATE, batchSize: 25 });
  publisher.start();
  const origin = publisher.startedAt;

  // Cut times: the first soon after publishing starts, then every 10-20 s (uniform)
  // until the cuts span at least a minute.
  const cuts: Array<{ at: number; count: number }> = [];
  let next = origin + FIRST_CUT_MS;
  let firstCutAt: number | undefined;
  for (;;) {
    await sleepUntil(next);
    const at = Date.now();
    firstCutAt ??= at;
    const count = await swarm.cut(CUT_FRACTION);
    cuts.push({ at: at - origin, count });
    console.log(`[dropped] cut ${count} links at t+${((at - origin) / 1000).toFixed(1)}s`);
    const elapsed = at - firstCutAt;
    if (elapsed >= CUTTING_FOR_MS) break;
    let gap = MIN_GAP_MS + Math.random() * (MAX_GAP_MS - MIN_GAP_MS);
    // The last gap lands the last cut just past the minute (keeps the run bounded).
    if (elapsed + gap > CUTTING_FOR_MS) gap = Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, CUTTING_FOR_MS - elapsed + 500));
    next = at + gap;
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS)); // still publishing while the last ones come back
  await publisher.stop();
  const streamed = publisher.published;
  const rate = publisher.ratePerSecond;
  await publisher.publishMarkers(markerOf);
  const markers = await swarm.awaitMarkers(30_000);
  const figures = await swarm.verify(Object.fromEntries(publisher.accepted));
  // The nodes' view: one session per client, none left over from a closed or cut link.
  const serverConnections = await connectionsPerEdge(cluster);

  const cutTotal = cuts.reduce((n, cut) => n + cut.count, 0);
  const codes: Record<number, number> = {};
  for (const [, code] of figures.disconnects) codes[code] = (codes[code] ?? 0) + 1;
  const storm = maxPerSecond(figures.reconnects);
  const maxBack = figures.backMs.length ? Math.max(...figures.backMs) : 0;
  const report = {
    clients: total,
    events: { accepted: streamed, markers: publisher.published - streamed, refused: publisher.refused, ratePerSecond: Math.round(rate), publishingSeconds: ((publisher.stoppedAt - publisher.startedAt) / 1000).toFixed(1) },
    cuts: { times: cuts.map((cut) => `t+${(cut.at / 1000).toFixed(1)}s:${cut.count}`).join(' '), total: cutTotal, spanSeconds: ((cuts.at(-1)!.at - cuts[0]!.at) / 1000).toFixed(1) },
    deliveries: { expected: figures.expected, delivered: figures.delivered, lost: figures.lost, duplicates: figures.duplicates, unexpected: figures.unexpected, outOfOrder: figures.outOfOrder, wrongOrder: figures.wrongOrder, continuityLost: figures.continuityLost },
    sdk: { duplicatesDropped: figures.sdkDuplicatesDropped, recoveredEvents: figures.recoveredEvents },
    markers: { done: markers.done, missing: markers.missingCount },
    reconnects: { total: figures.reconnects.length, disconnectsByCode: codes, maxPerSecond: storm.max, maxPerSecondPct: Number(((100 * storm.max) / total).toFixed(1)), perSecond: perSecondLine(figures.reconnects, origin) },
    backMs: { max: maxBack, p50: percentile(figures.backMs, 50), p99: percentile(figures.backMs, 99), stillDown: figures.stillDown },
    serverConnections,
    durationSeconds: ((Date.now() - testStart) / 1000).toFixed(1),
  };
  console.log(`[dropped] figures ${JSON.stringify(report, null, 2)}`);
  if (figures.problems.length > 0) console.log(`[dropped] problems ${JSON.stringify(figures.problems, null, 2)}`);

  expect(publisher.failures).toEqual([]);
  expect(rate).toBeGreaterThanOrEqual(200);
  expect(cuts.length).toBeGreaterThanOrEqual(4);
  expect(cuts.at(-1)!.at - cuts[0]!.at).toBeGreaterThanOrEqual(CUTTING_FOR_MS);
  for (const cut of cuts) expect(cut.count).toBeGreaterThanOrEqual(total * CUT_FRACTION * 0.9);
  expect(markers.missingCount).toBe(0);
  expect(figures.expected).toBe(CLIENTS_PER_MERCHANT * publisher.published);
  expect({ lost: figures.lost, duplicates: figures.duplicates, unexpected: figures.unexpected, outOfOrder: figures.outOfOrder, wrongOrder: figures.wrongOrder, continuityLost: figures.continuityLost }).toEqual({
    lost: 0,
    duplicates: 0,
    unexpected: 0,
    outOfOrder: 0,
    wrongOrder: 0,
    continuityLost: 0,
  });
  expect(figures.delivered).toBe(figures.expected);
  expect(figures.sdkDuplicatesDropped).toBe(0);
  // Every cut link was noticed at once (1006, no close frame) and came back.
  expect(codes[1006] ?? 0).toBeGreaterThanOrEqual(cutTotal);
  expect(figures.stillDown).toBe(0);
  expect(serverConnections.reduce((a, b) => a + b, 0)).toBe(total);
  expect(maxBack).toBeLessThan(10_000);
});
