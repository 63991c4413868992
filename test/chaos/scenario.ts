/**
 * One chaos case, the same way every time: 300 SDK clients (60 merchant channels, 5
 * clients each, two client processes, spread over the edges by the SDK's random pick),
 * a steady load (the HTTP producer of topology-load.ts, or the stream producer), a fault
 * injected after a steady phase, a steady phase after it, one marker event per merchant
 * (quiescence), then every client's deliveries checked against the accepted events of
 * its channel (test/load/sdk-clients.mjs):
 *
 *   lost        accepted events a client never got, outside a gap announced by
 *               continuity-lost (must be 0)
 *   excused     accepted events missing inside such a gap (allowed only where the case
 *               says continuity-lost may happen)
 *   duplicates  an event id delivered twice to one client (must be 0)
 *
 * It prints one summary line per case, `[chaos] case=... published=... lost=...`, with
 * the time to recover: from the end of the fault until every live edge is ready again
 * and the load had an event accepted that was sent after the fault.
 */
import { expect } from 'vitest';
import { readyStatus, waitUntil } from '../support/cluster.js';
import type { HeraldProcess } from '../support/herald.js';
import { RetryingPublisher, type RetryingPublisherOptions } from '../support/topology-load.js';
import { Swarm, heavyScenarioLock, markersFor, merchantsOf, percentile, type VerifyFigures } from '../sdk/harness.js';
import { startBed, type Bed, type BedOptions } from './bed.js';

export const MERCHANTS = 60; // not a multiple of 7: the producers' stride covers them all
export const CLIENTS_PER_MERCHANT = 5;
export const RATE = 200; // events/s
const STEADY_MS = 2_000;
const MARKERS_TIMEOUT_MS = 30_000;

/** What a scenario needs of its load: RetryingPublisher and StreamLoad both fit. */
export interface Load {
  readonly accepted: Map<string, string[]>;
  readonly published: number;
  readonly failures: string[];
  start(): void;
  stop(): Promise<void>;
  publishMarkers(markerOf: Record<string, string>): Promise<void>;
}

export interface FaultContext {
  bed: Bed;
  load: Load;
  /** The clients (a case may cut some of their links). */
  swarm: Swarm;
  /** When the load started (ms since the epoch). */
  origin: number;
}

export interface FaultOutcome {
  /** When the fault was over: the restart done, the link restored, the process killed. */
  endedAt: number;
  /** When the case's own recovery condition held, if it has one (else the generic one is awaited). */
  recoveredAt?: number;
  /** Edges that are gone for good (a killed one): not awaited for readiness. */
  deadEdges?: readonly HeraldProcess[];
  /** Case-specific figures for the summary line. */
  figures?: Record<string, unknown>;
}

export interface ScenarioOptions {
  name: string;
  /** The load; default the HTTP producer on ingest 0 at RATE. */
  load?: (bed: Bed, merchants: readonly string[]) => Load;
  fault: (context: FaultContext) => Promise<FaultOutcome>;
  /** Whether continuity-lost may (or must) be seen: 'none' (default), 'allowed', 'required'. */
  continuityLost?: 'none' | 'allowed' | 'required';
  /** Whether each client must see the accepted events in accepted order (default true). */
  ordered?: boolean;
  /** Awaited before the markers go out (a stream's claimed entries must be in first). */
  beforeMarkers?: (context: FaultContext) => Promise<void>;
}

export interface CaseResult {
  figures: VerifyFigures;
  published: number;
  recoverMs: number;
  summary: Record<string, unknown>;
}

/** The HTTP producer of the topology tests, with the options a case needs. */
export function httpLoad(extra: Partial<RetryingPublisherOptions> = {}) {
  return (bed: Bed, merchants: readonly string[]): RetryingPublisher =>
    new RetryingPublisher({ ingestUrl: bed.herald.ingests[0]!.url, merchants, rate: RATE, batchSize: 20, ...extra });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the heavy-scenario lock (300 clients share two cores: one such case at a time
 * across test files and runs), starts a bed, runs `body`, and stops everything.
 */
export async function withBed<T>(options: BedOptions, body: (bed: Bed) => Promise<T>): Promise<T> {
  const waitStart = Date.now();
  const release = await heavyScenarioLock();
  if (Date.now() - waitStart > 1_000) console.log(`[chaos] ${options.label}: waited ${Date.now() - waitStart} ms for another heavy scenario`);
  let bed: Bed | undefined;
  try {
    const startAt = Date.now();
    bed = await startBed(options);
    if (process.env.HERALD_TEST_DEBUG) console.log(`[chaos] ${options.label}: bed started in ${Date.now() - startAt} ms`);
    return await body(bed);
  } finally {
    const stopAt = Date.now();
    await bed?.stop();
    if (process.env.HERALD_TEST_DEBUG) console.log(`[chaos] ${options.label}: bed stopped in ${Date.now() - stopAt} ms`);
    release();
  }
}

export async function runScenario(bed: Bed, options: ScenarioOptions): Promise<CaseResult> {
  const started = Date.now();
  const run = `${options.name.replace(/[^A-Za-z0-9]/g, '')}${Date.now().toString(36)}`;
  const merchants = merchantsOf(MERCHANTS, run);
  const markerOf = markersFor(merchants, run);
  const edges = [...bed.herald.edges];
  const urls = edges.map((edge) => edge.wsUrl);
  const { swarm, nodes, failed } = await Swarm.start({ urls, merchants, clientsPerMerchant: CLIENTS_PER_MERCHANT, processes: 2, markerOf });
  try {
    expect(failed).toBe(0);
    const load = (options.load ?? httpLoad())(bed, merchants);
    load.start();
    const origin = Date.now();
    const context: FaultContext = { bed, load, swarm, origin };
    let outcome: FaultOutcome;
    let recoveredAt: number;
    let recovery: Partial<Recovery> = {};
    try {
      await sleep(STEADY_MS); // load before the fault
      outcome = await options.fault(context);
      if (outcome.recoveredAt !== undefined) recoveredAt = outcome.recoveredAt;
      else {
        recovery = await awaitRecovery(edges.filter((edge) => !outcome.deadEdges?.includes(edge)), load, outcome.endedAt);
        recoveredAt = recovery.at!;
      }
      await sleep(STEADY_MS); // and after it
    } finally {
      await load.stop();
    }
    const published = load.published;
    await options.beforeMarkers?.(context);
    await load.publishMarkers(markerOf);
    const markers = await swarm.awaitMarkers(MARKERS_TIMEOUT_MS);
    const figures = await swarm.verify(Object.fromEntries(load.accepted));
    const recoverMs = recoveredAt - outcome.endedAt;
    const summary = {
      case: options.name,
      clients: swarm.total,
      clientsPerEdge: urls.map((url) => nodes[url] ?? 0),
      published,
      expected: figures.expected,
      delivered: figures.delivered,
      lost: figures.lost,
      duplicates: figures.duplicates,
      continuityLost: figures.continuityLost,
      excused: figures.excused,
      recoverMs,
      ...(recovery.at !== undefined ? { edgesReadyMs: recovery.edgesReadyMs, acceptingMs: recovery.acceptingMs } : {}),
      unexpected: figures.unexpected,
      outOfOrder: figures.outOfOrder,
      wrongOrder: figures.wrongOrder,
      sdkDuplicatesDropped: figures.sdkDuplicatesDropped,
      recoveredEvents: figures.recoveredEvents,
      clientsDisconnected: figures.clientsDisconnected,
      clientBackMsMax: percentile(figures.backMs, 100),
      markersMissing: markers.missingCount,
      ...(load instanceof RetryingPublisher ? { ingest503: load.unavailable, unanswered: load.unanswered } : {}),
      ...outcome.figures,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    };
    console.log(`[chaos] ${Object.entries(summary).map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`).join(' ')}`);
    if (process.env.HERALD_TEST_DEBUG) printTimeline(bed, origin);
    if (figures.problems.length > 0) console.log(`[chaos] ${options.name} problems ${JSON.stringify(figures.problems.slice(0, 3))}`);

    expect(load.failures).toEqual([]);
    expect(markers.missingCount).toBe(0);
    expect(figures.clients).toBe(swarm.total);
    expect(figures.expected).toBe(CLIENTS_PER_MERCHANT * load.published);
    expect({
      lost: figures.lost,
      duplicates: figures.duplicates,
      unexpected: figures.unexpected,
      outOfOrder: figures.outOfOrder,
      sdkDuplicatesDropped: figures.sdkDuplicatesDropped,
    }).toEqual({ lost: 0, duplicates: 0, unexpected: 0, outOfOrder: 0, sdkDuplicatesDropped: 0 });
    if (options.ordered ?? true) expect(figures.wrongOrder).toBe(0);
    const continuityLost = options.continuityLost ?? 'none';
    if (continuityLost === 'none') expect({ continuityLost: figures.continuityLost, excused: figures.excused }).toEqual({ continuityLost: 0, excused: 0 });
    if (continuityLost === 'required') expect(figures.continuityLost).toBeGreaterThan(0);
    // Nothing missing without a notice: an excused event always sits in an announced gap.
    if (figures.excused > 0) expect(figures.continuityLost).toBeGreaterThan(0);
    return { figures, published, recoverMs, summary };
  } finally {
    await swarm.stop();
  }
}

/**
 * Resolves once every live edge answers /readyz 200 and the load has had an event
 * accepted that was sent after `since` (polled: readiness announces nothing), with when
 * each held first.
 */
export async function awaitRecovery(edges: readonly HeraldProcess[], load: Load, since: number, timeoutMs = 30_000): Promise<Recovery> {
  let readyAt: number | undefined;
  let acceptingAt: number | undefined;
  await waitUntil(
    async () => {
      if (acceptingAt === undefined && (!(load instanceof RetryingPublisher) || load.acceptedAt.some((t) => t >= since))) acceptingAt = Date.now();
      if (readyAt === undefined && (await Promise.all(edges.map(readyStatus))).every((status) => status === 200)) readyAt = Date.now();
      return readyAt !== undefined && acceptingAt !== undefined;
    },
    { timeoutMs, intervalMs: 50, what: 'every edge ready and an event accepted after the fault' },
  );
  return { at: Math.max(readyAt!, acceptingAt!), edgesReadyMs: readyAt! - since, acceptingMs: acceptingAt! - since };
}

export interface Recovery {
  /** When both held. */
  at: number;
  /** From the end of the fault until every live edge was ready. */
  edgesReadyMs: number;
  /** From the end of the fault until the ingest accepted an event sent after it. */
  acceptingMs: number;
}

/** With HERALD_TEST_DEBUG: every process's log records from info up, timed from the load's start. */
function printTimeline(bed: Bed, origin: number): void {
  const lines: Array<[number, string]> = [];
  for (const [role, processes] of [['edge', bed.herald.edges], ['ingest', bed.herald.ingests]] as const) {
    processes.forEach((process, i) => {
      for (const line of process.stdout) {
        let record: { level?: string; time?: string; msg?: string };
        try {
          record = JSON.parse(line) as typeof record;
        } catch {
          continue;
        }
        const time = Date.parse(record.time ?? '');
        if (record.level !== 'debug' && record.level !== 'trace' && time >= origin) lines.push([time - origin, `${role}${i} ${line.slice(0, 300)}`]);
      }
    });
  }
  for (const [t, line] of lines.sort((a, b) => a[0] - b[0])) console.log(`  t+${t}ms ${line}`);
}
