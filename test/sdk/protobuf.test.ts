/**
 * The SDK scenarios with `format: 'protobuf'`, side by side with JSON: 2 edge nodes on
 * one real Redis, 240 SDK clients (2 processes; each merchant's 6 clients alternate
 * JSON and protobuf) subscribed to 40 merchant channels, ingest publishing batches at
 * 100 events/s, and while it publishes: a fifth of the TCP links cut abruptly (1006,
 * no close frame), then every edge restarted in turn (SIGTERM: 1001 spread over the
 * drain period, a replacement on the same address). Every client resumes with `since`.
 *
 * It must show, for both formats: every accepted event of the client's merchant exactly
 * once and in order (the publisher's 202 list; quiescence = a final marker event per
 * merchant), no duplicate the SDK had to drop, and the protobuf clients really on
 * v1.protobuf (the edges' per-subprotocol connection gauge).
 */
import { afterAll, expect, it } from 'vitest';
import { metricValue } from '../support/http.js';
import { Publisher, Swarm, heavyScenarioLock, markersFor, merchantsOf, startCluster, type Cluster } from './harness.js';

const EDGES = 2;
const MERCHANTS = 40;
const CLIENTS_PER_MERCHANT = 6;
const PROCESSES = 2;
const RATE = 100;
const DRAIN_MS = 2_000;
const STEADY_MS = 2_000;

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

async function protobufConnections(edges: Cluster['edges']): Promise<number> {
  const counts = await Promise.all(edges.map((edge) => metricValue(edge.url, 'herald_edge_subprotocol_connections', { subprotocol: 'v1.protobuf' })));
  return counts.reduce((a, b) => a + b, 0);
}

it('JSON and protobuf SDK clients through cut links and a rolling restart: zero lost, zero duplicated, in order, in both formats', { timeout: 240_000 }, async () => {
  // The 1,000-client scenarios measure timing on two shared cores: never run beside them.
  releaseLock = await heavyScenarioLock();
  cluster = await startCluster({ edges: EDGES, env: { SHUTDOWN_DRAIN_PERIOD: `${DRAIN_MS}ms`, SHUTDOWN_TIMEOUT: `${DRAIN_MS + 10_000}ms` } });
  const run = Date.now().toString(36);
  const merchants = merchantsOf(MERCHANTS, `pb${run}`);
  const markerOf = markersFor(merchants, run);
  const started = await Swarm.start({ urls: cluster.urls, merchants, clientsPerMerchant: CLIENTS_PER_MERCHANT, processes: PROCESSES, markerOf, formats: ['json', 'protobuf'] });
  swarm = started.swarm;
  const total = swarm.total;
  expect(started.failed).toBe(0);
  expect(started.formats).toEqual({ json: total / 2, protobuf: total / 2 });
  expect(await protobufConnections(cluster.edges)).toBe(total / 2);

  publisher = new Publisher({ ingestUrl: cluster.ingest.url, merchants, rate: RATE, batchSize: 10 });
  publisher.start();
  await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
  const cut = await swarm.cut(0.2);
  expect(cut).toBeGreaterThanOrEqual(total * 0.2 * 0.9);
  await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
  for (let i = 0; i < EDGES; i++) {
    const result = await cluster.restartEdge(i);
    expect(result.exit).toEqual({ code: 0, signal: null });
  }
  await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
  await publisher.stop();
  await publisher.publishMarkers(markerOf);
  const markers = await swarm.awaitMarkers(30_000);
  const figures = await swarm.verify(Object.fromEntries(publisher.accepted));
  const report = {
    clients: total,
    events: { accepted: publisher.published, refused: publisher.refused },
    cut,
    byFormat: figures.byFormat,
    deliveries: { expected: figures.expected, delivered: figures.delivered, lost: figures.lost, duplicates: figures.duplicates, unexpected: figures.unexpected, outOfOrder: figures.outOfOrder, wrongOrder: figures.wrongOrder, continuityLost: figures.continuityLost },
    sdkDuplicatesDropped: figures.sdkDuplicatesDropped,
    clientsDisconnected: figures.clientsDisconnected,
  };
  console.log(`[protobuf] figures ${JSON.stringify(report, null, 2)}`);
  if (figures.problems.length > 0) console.log(`[protobuf] problems ${JSON.stringify(figures.problems, null, 2)}`);

  expect(publisher.failures).toEqual([]);
  expect(markers.missingCount).toBe(0);
  expect({ lost: figures.lost, duplicates: figures.duplicates, unexpected: figures.unexpected, outOfOrder: figures.outOfOrder, wrongOrder: figures.wrongOrder, continuityLost: figures.continuityLost }).toEqual({
    lost: 0,
    duplicates: 0,
    unexpected: 0,
    outOfOrder: 0,
    wrongOrder: 0,
    continuityLost: 0,
  });
  expect(figures.sdkDuplicatesDropped).toBe(0);
  for (const format of ['json', 'protobuf'] as const) {
    const mine = figures.byFormat[format]!;
    expect(mine.clients, format).toBe(total / 2);
    expect(mine.expected, format).toBe((CLIENTS_PER_MERCHANT / 2) * publisher.published);
    expect({ format, delivered: mine.delivered, lost: mine.lost, duplicates: mine.duplicates }).toEqual({ format, delivered: mine.expected, lost: 0, duplicates: 0 });
    // Resumed with since: some events came from history after a cut or a drain.
    expect(mine.recoveredEvents, format).toBeGreaterThan(0);
  }
  // Every client was moved by the restarts and came back, the protobuf ones on v1.protobuf.
  expect(figures.clientsDisconnected).toBe(total);
  expect(figures.stillDown).toBe(0);
  expect(await protobufConnections(cluster.edges)).toBe(total / 2);
});
