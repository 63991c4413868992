/**
 * A deploy under load: 3 edge nodes on one real Redis, 1,000 SDK clients (HeraldClient,
 * Node transport, 4 processes) each subscribed to one of 100 merchant channels (10 per
 * merchant), ingest publishing batches at 250 events/s, and every edge restarted one
 * after the other (SIGTERM: readiness 503, closes with 1001 spread over
 * SHUTDOWN_DRAIN_PERIOD, exit 0; then a replacement on the same address).
 *
 * The clients find "any node" through the SDK's list of URLs: the first attempt picks
 * one at random (the population spreads ~333 per node), and after a 1001 each client
 * goes to one of the *other* nodes at random, resubscribing with `since`. A replacement
 * node comes up on the address of the node it replaces (like a StatefulSet pod keeping its
 * DNS name). Chosen over a TCP round-robin proxy in the test process: the list exercises
 * the SDK's own node selection (a product feature), and nothing sits between clients and
 * nodes that could hide or reorder a close frame; a proxy would mostly test the proxy.
 *
 * It must show: every client received every accepted event of its merchant exactly once
 * and in order (the publisher's 202 list; quiescence = a final marker event per merchant),
 * no second (wall clock, over all clients) in which more than 20% of the clients
 * reconnected, and every client back (resubscribed) within 13 s of its disconnect (the
 * SDK's 8 s going-away window + 5 s). It runs twice: with the default drain period (10 s)
 * and with a short one (3 s), where the node's closes alone would be a storm and the
 * SDK's going-away window does the spreading.
 */
import { afterAll, expect, it } from 'vitest';
import {
  Publisher,
  Swarm,
  connectionsPerEdge,
  heavyScenarioLock,
  maxPerSecond,
  markersFor,
  merchantsOf,
  percentile,
  perSecondLine,
  startCluster,
  type Cluster,
} from './harness.js';

const EDGES = 3;
const MERCHANTS = 100;
const CLIENTS_PER_MERCHANT = 10;
const PROCESSES = 4;
const RATE = 250; // events/s (>= 200 required)
const STEADY_MS = 3_000;
/** The SDK's default going-away window: a client's first retry after a 1001 waits up to this. */
const GOING_AWAY_WINDOW_MS = 8_000;

let cluster: Cluster | undefined;
let swarm: Swarm | undefined;
let publisher: Publisher | undefined;
let releaseLock: (() => void) | undefined;

async function cleanUp(): Promise<void> {
  await publisher?.stop();
  await swarm?.stop();
  await cluster?.stop();
  releaseLock?.();
  publisher = undefined;
  swarm = undefined;
  cluster = undefined;
  releaseLock = undefined;
}

afterAll(cleanUp);

// The product default (10 s) and a short period (3 s): with the closes alone, the last
// node's ~750 clients in 3 s were 25% of all clients per second; the SDK's going-away
// window spreads them over at least 8 s, whatever the drain period.
const DRAIN_PERIODS = [
  { name: 'default drain period (10s)', drainMs: 10_000 },
  { name: 'SHUTDOWN_DRAIN_PERIOD=3s', drainMs: 3_000 },
];

for (const { name, drainMs } of DRAIN_PERIODS) {
  it(`rolling restart of every edge under continuous publishing, ${name}: zero lost, zero duplicated, no second with over 20% of the clients reconnecting`, { timeout: 240_000 }, async () => {
    try {
      await rollingRestart(drainMs);
    } finally {
      await cleanUp();
    }
  });
}

async function rollingRestart(DRAIN_MS: number): Promise<void> {
  const waitStart = Date.now();
  releaseLock = await heavyScenarioLock(); // the other 1,000-client scenario runs first if it holds it
  if (Date.now() - waitStart > 1_000) console.log(`[rolling] waited ${Date.now() - waitStart} ms for the other heavy scenario`);
  const testStart = Date.now();
  cluster = await startCluster({
    edges: EDGES,
    env: { SHUTDOWN_DRAIN_PERIOD: `${DRAIN_MS}ms`, SHUTDOWN_TIMEOUT: `${DRAIN_MS + 10_000}ms` },
  });
  const run = Date.now().toString(36);
  const merchants = merchantsOf(MERCHANTS, run);
  const markerOf = markersFor(merchants, run);
  const started = await Swarm.start({ urls: cluster.urls, merchants, clientsPerMerchant: CLIENTS_PER_MERCHANT, processes: PROCESSES, markerOf });
  swarm = started.swarm;
  expect(started.failed).toBe(0);
  const total = swarm.total;
  // A random first pick from the list spreads the clients evenly (~333 per node).
  for (const url of cluster.urls) expect(started.nodes[url] ?? 0).toBeGreaterThan((0.75 * total) / EDGES);
  console.log(`[rolling] ${total} clients subscribed in ${Date.now() - testStart} ms; per node (edges 0..${EDGES - 1}): ${JSON.stringify(cluster.urls.map((url) => started.nodes[url] ?? 0))}`);

  publisher = new Publisher({ ingestUrl: cluster.ingest.url, merchants, rate: RATE, batchSize: 25 });
  publisher.start();
  const origin = publisher.startedAt;
  await new Promise((resolve) => setTimeout(resolve, STEADY_MS)); // publishing before the deploy

  const restarts: Array<{ node: number; connectionsBefore: number[]; exit: unknown; drainedMs: number; replacedMs: number; at: number }> = [];
  for (let i = 0; i < EDGES; i++) {
    const connectionsBefore = await connectionsPerEdge(cluster);
    const at = Date.now() - origin;
    const result = await cluster.restartEdge(i);
    restarts.push({ node: i, connectionsBefore, at, ...result });
    console.log(`[rolling] edge ${i} restarted at t+${(at / 1000).toFixed(1)}s: exit ${JSON.stringify(result.exit)}, drained in ${result.drainedMs} ms, replacement ready after ${result.replacedMs} ms`);
  }
  await new Promise((resolve) => setTimeout(resolve, STEADY_MS)); // publishing after the deploy
  await publisher.stop();
  const streamed = publisher.published;
  const rate = publisher.ratePerSecond;
  await publisher.publishMarkers(markerOf);
  const markers = await swarm.awaitMarkers(30_000);
  const figures = await swarm.verify(Object.fromEntries(publisher.accepted));
  // The nodes' view: one session per client, none left over from a closed or cut link.
  const serverConnections = await connectionsPerEdge(cluster);

  const storm = maxPerSecond(figures.reconnects);
  // Back = the going-away delay (at most the window) + connecting and resubscribing, with
  // room for one refused attempt at a node that is itself draining.
  const BACK_LIMIT_MS = GOING_AWAY_WINDOW_MS + 5_000;
  const maxBack = figures.backMs.length ? Math.max(...figures.backMs) : 0;
  const codes: Record<number, number> = {};
  for (const [, code] of figures.disconnects) codes[code] = (codes[code] ?? 0) + 1;
  const report = {
    clients: total,
    events: { accepted: streamed, markers: publisher.published - streamed, refused: publisher.refused, ratePerSecond: Math.round(rate), publishingSeconds: ((publisher.stoppedAt - publisher.startedAt) / 1000).toFixed(1) },
    deliveries: { expected: figures.expected, delivered: figures.delivered, lost: figures.lost, duplicates: figures.duplicates, unexpected: figures.unexpected, outOfOrder: figures.outOfOrder, wrongOrder: figures.wrongOrder, continuityLost: figures.continuityLost },
    sdk: { duplicatesDropped: figures.sdkDuplicatesDropped, recoveredEvents: figures.recoveredEvents },
    markers: { done: markers.done, missing: markers.missingCount },
    reconnects: {
      total: figures.reconnects.length,
      clientsDisconnected: figures.clientsDisconnected,
      disconnectsByCode: codes,
      maxPerSecond: storm.max,
      maxPerSecondPct: Number(((100 * storm.max) / total).toFixed(1)),
      perSecond: perSecondLine(figures.reconnects, origin),
    },
    backMs: { max: maxBack, p50: percentile(figures.backMs, 50), p99: percentile(figures.backMs, 99), limit: BACK_LIMIT_MS, stillDown: figures.stillDown },
    restarts,
    finalClientsPerNode: cluster.urls.map((url) => figures.nodes[url] ?? 0),
    serverConnections,
    durationSeconds: ((Date.now() - testStart) / 1000).toFixed(1),
  };
  console.log(`[rolling] drain ${DRAIN_MS} ms: figures ${JSON.stringify(report, null, 2)}`);
  if (figures.problems.length > 0) console.log(`[rolling] problems ${JSON.stringify(figures.problems, null, 2)}`);

  expect(publisher.failures).toEqual([]);
  expect(rate).toBeGreaterThanOrEqual(200);
  for (const restart of restarts) expect(restart.exit).toEqual({ code: 0, signal: null });
  expect(markers.missingCount).toBe(0);
  expect(figures.clients).toBe(total);
  expect(publisher.published).toBe(streamed + MERCHANTS);
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
  // The server never sent an event twice (or one at or before \`since\`) on a connection:
  // the SDK's seq filter had nothing to drop.
  expect(figures.sdkDuplicatesDropped).toBe(0);
  // Every node was restarted, so every client was moved at least once, and came back.
  expect(figures.clientsDisconnected).toBe(total);
  expect(figures.stillDown).toBe(0);
  expect(serverConnections.reduce((a, b) => a + b, 0)).toBe(total);
  expect(storm.max).toBeLessThanOrEqual(total * 0.2);
  expect(maxBack).toBeLessThanOrEqual(BACK_LIMIT_MS);
}
