/**
 * The moving parts of the SDK scenarios (test/sdk/*.test.ts):
 *
 * - `startCluster`: one real Redis, N `herald edge` processes and one `herald ingest`,
 *   all on port 0 with a key prefix of their own. `restartEdge(i)` is a deploy step:
 *   SIGTERM (the node drains: /readyz 503, 1001 closes spread over the drain period,
 *   exit 0), then a replacement on the *same* port, so the node's address stays what the
 *   clients were given, as a StatefulSet pod keeps its DNS name across a restart.
 * - `Swarm`: the SDK clients, spread over child processes (test/load/sdk-clients.mjs),
 *   each a real `HeraldClient` with the list of every edge's URL.
 * - `Publisher`: a producer posting batches to the ingest API at a steady rate, one
 *   batch in flight at a time, so the 202-accepted order per merchant is the channel's
 *   seq order; it ends with one marker event per merchant, the quiescence signal.
 *
 * Everything started here is stopped by PID (`stop()`), and killed when the worker exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, watch, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHerald, waitUntilReady, type Exit, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publishBatch } from '../support/ingest.js';
import { startRedis, uniquePrefix, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('../load/sdk-clients.mjs', import.meta.url));

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// ---- One heavy scenario at a time -------------------------------------------------

const LOCK_PATH = join(tmpdir(), 'herald-test-sdk-heavy.lock');

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(LOCK_PATH, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // No lock file (gone meanwhile), or its process is dead (ESRCH): not held.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The 1,000-client scenarios share two cores with everything else: run side by side,
 * each would measure the other's CPU starvation (late drains, bunched handshakes) rather
 * than Herald. This cross-process lock (a file holding the owner's PID, taken with
 * O_EXCL, stolen from a dead owner) runs them one after the other while lighter test
 * files still run in parallel. Resolves with the release function.
 */
export async function heavyScenarioLock(): Promise<() => void> {
  for (;;) {
    try {
      const fd = openSync(LOCK_PATH, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        process.off('exit', release);
        rmSync(LOCK_PATH, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!lockHolderAlive()) {
      rmSync(LOCK_PATH, { force: true });
      continue;
    }
    // Woken by the lock file's removal; the timer only re-checks for a holder that died.
    await new Promise<void>((resolve) => {
      const watcher = watch(tmpdir(), (_event, name) => {
        if (name === null || name === 'herald-test-sdk-heavy.lock') done();
      });
      const timer = setTimeout(done, 2_000);
      function done(): void {
        clearTimeout(timer);
        watcher.close();
        resolve();
      }
    });
  }
}

// ---- Cluster ------------------------------------------------------------------------

export interface ClusterOptions {
  edges: number;
  env?: Record<string, string>;
}

export interface Cluster {
  readonly redis: RedisServer;
  readonly prefix: string;
  readonly edges: HeraldProcess[];
  readonly ingest: HeraldProcess;
  /** ws://127.0.0.1:<port>/v1/ws of every edge slot (stable across restarts). */
  readonly urls: string[];
  /** SIGTERM edge `i`, wait for its exit, start its replacement on the same port, wait ready. */
  restartEdge(i: number): Promise<{ exit: Exit; drainedMs: number; replacedMs: number }>;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const redis = await startRedis();
  const prefix = uniquePrefix('sdk').replace(/[^A-Za-z0-9_.-]/g, '-');
  const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, ...options.env };
  const started: HeraldProcess[] = [];
  const launch = async (mode: 'edge' | 'ingest', extra: Record<string, string> = {}): Promise<HeraldProcess> => {
    const herald = await startHerald({ mode, env: { ...env, ...extra }, waitReady: true, timeoutMs: 20_000 });
    started.push(herald);
    return herald;
  };
  try {
    const [ingest, ...edges] = await Promise.all([launch('ingest'), ...Array.from({ length: options.edges }, () => launch('edge'))]);
    const cluster: Cluster = {
      redis,
      prefix,
      edges,
      ingest: ingest!,
      urls: edges.map((edge) => edge.wsUrl),
      async restartEdge(i) {
        const old = edges[i]!;
        const signalledAt = Date.now();
        const exit = await old.stop('SIGTERM');
        const drainedMs = Date.now() - signalledAt;
        edges[i] = await startOnPort(() => launch('edge', { PORT: String(old.port) }));
        return { exit, drainedMs, replacedMs: Date.now() - signalledAt };
      },
      async stop() {
        await Promise.all(started.map((herald) => herald.stop('SIGKILL')));
        await redis.kill();
      },
    };
    return cluster;
  } catch (error) {
    await Promise.all(started.map((herald) => herald.stop('SIGKILL')));
    await redis.kill();
    throw error;
  }
}

/** The old process just released the port; in the rare case it is not free yet, try again briefly. */
async function startOnPort(launch: () => Promise<HeraldProcess>): Promise<HeraldProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch();
    } catch (error) {
      if (attempt >= 10 || !/EADDRINUSE|cannot listen/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export { waitUntilReady };

/** The `herald_edge_connections` gauge of each edge, as its /metrics says now. */
export async function connectionsPerEdge(cluster: Cluster): Promise<number[]> {
  return Promise.all(
    cluster.edges.map(async (edge) => {
      const text = await (await fetch(`${edge.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('herald_edge_connections'));
      return line ? Number(line.split(' ').at(-1)) : Number.NaN;
    }),
  );
}

// ---- Publisher ----------------------------------------------------------------------

export interface PublisherOptions {
  ingestUrl: string;
  merchants: readonly string[];
  /** Target events per second. */
  rate: number;
  batchSize: number;
}

export class Publisher {
  /** Accepted (202) event ids per merchant, in publish order. */
  readonly accepted = new Map<string, string[]>();
  published = 0;
  refused = 0;
  failures: string[] = [];
  startedAt = 0;
  stoppedAt = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly options: PublisherOptions) {
    for (const merchant of options.merchants) this.accepted.set(merchant, []);
  }

  start(): void {
    this.running = true;
    this.startedAt = Date.now();
    this.loop = this.run();
  }

  /** Stops after the batch in flight; resolves when it is answered. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.stoppedAt = Date.now();
  }

  get ratePerSecond(): number {
    return this.published / (((this.stoppedAt || Date.now()) - this.startedAt) / 1000);
  }

  private async run(): Promise<void> {
    const { merchants, rate, batchSize } = this.options;
    const interval = (batchSize / rate) * 1000;
    let due = Date.now();
    let turn = 0;
    while (this.running) {
      // Round robin with an offset per batch: every merchant gets its share, in mixed order.
      const events = Array.from({ length: batchSize }, (_, i) => paymentCreated(merchants[(turn * batchSize + i * 7) % merchants.length]!));
      turn++;
      await this.send(events);
      due += interval;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** One marker event per merchant (payment.updated, status "final"), after everything else. */
  async publishMarkers(markerOf: Record<string, string>): Promise<void> {
    const events = Object.entries(markerOf).map(([merchant, id]) => ({
      type: 'payment.updated',
      id,
      data: { payment_id: `${id}_pay`, merchant_id: merchant, status: 'final' },
    }));
    await this.send(events);
  }

  private async send(events: Array<Record<string, any>>): Promise<void> {
    try {
      const answer = await publishBatch(this.options.ingestUrl, events);
      if (answer.status !== 207) {
        this.refused += events.length;
        this.failures.push(`batch answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
        return;
      }
      (answer.body.results as Array<{ status: number; id: string; duplicate?: boolean }>).forEach((result, i) => {
        const merchant = events[i]!.data.merchant_id as string;
        if (result.status === 202 && !result.duplicate) {
          this.accepted.get(merchant)!.push(result.id);
          this.published++;
        } else {
          this.refused++;
          if (this.failures.length < 10) this.failures.push(JSON.stringify(result).slice(0, 200));
        }
      });
    } catch (error) {
      // The outcome is unknown; count the events as refused and say so.
      this.refused += events.length;
      this.failures.push(`batch failed: ${(error as Error).message}`);
    }
  }
}

// ---- Swarm --------------------------------------------------------------------------

export type SdkFormat = 'json' | 'protobuf';

export interface SwarmOptions {
  urls: string[];
  merchants: readonly string[];
  clientsPerMerchant: number;
  processes: number;
  markerOf: Record<string, string>;
  /** Client `i` of each merchant uses `formats[i % formats.length]`; default JSON only. */
  formats?: readonly SdkFormat[];
}

/** One format's share of the figures. */
export interface FormatFigures {
  clients: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  recoveredEvents: number;
}

export interface VerifyFigures {
  clients: number;
  expected: number;
  delivered: number;
  lost: number;
  unexpected: number;
  duplicates: number;
  outOfOrder: number;
  wrongOrder: number;
  continuityLost: number;
  /** Missing events inside a gap a continuity-lost notice announced (not counted in `lost`). */
  excused: number;
  sdkDuplicatesDropped: number;
  recoveredEvents: number;
  disconnects: Array<[number, number]>;
  reconnects: number[];
  backMs: number[];
  stillDown: number;
  clientsDisconnected: number;
  problems: unknown[];
  nodes: Record<string, number>;
  byFormat: Partial<Record<SdkFormat, FormatFigures>>;
}

interface Child {
  process: ChildProcess;
  inbox: Array<Record<string, any>>;
  waiters: Array<{ type: string; resolve: (message: Record<string, any>) => void; reject: (error: Error) => void }>;
  stderr: string[];
}

export class Swarm {
  private constructor(
    private readonly children: Child[],
    readonly total: number,
  ) {}

  /** Spawns the processes, connects every client and resolves once each one is subscribed. */
  static async start(options: SwarmOptions): Promise<{ swarm: Swarm; nodes: Record<string, number>; formats: Record<string, number>; failed: number }> {
    const formats = options.formats ?? ['json'];
    const specs = options.merchants.flatMap((merchant) => {
      const token = clientToken({ sub: `user_${merchant}`, channels: [`merchant:${merchant}`] });
      return Array.from({ length: options.clientsPerMerchant }, (_, i) => ({ id: `${merchant}/${i}`, merchant, token, format: formats[i % formats.length] }));
    });
    const kids = Array.from({ length: options.processes }, () => spawnChild());
    const swarm = new Swarm(kids, specs.length);
    try {
      await Promise.all(kids.map((kid) => swarm.take(kid, 'spawned', 10_000)));
      // Interleave so that each process holds every merchant's clients in equal share.
      const shares = kids.map((_, k) => specs.filter((_, i) => i % kids.length === k));
      kids.forEach((kid, k) => kid.process.send({ cmd: 'start', urls: options.urls, clients: shares[k], markerOf: options.markerOf }));
      const ready = await Promise.all(kids.map((kid) => swarm.take(kid, 'ready', 60_000)));
      const nodes: Record<string, number> = {};
      for (const answer of ready) for (const [url, n] of Object.entries(answer.nodes as Record<string, number>)) nodes[url] = (nodes[url] ?? 0) + n;
      const formatCounts: Record<string, number> = {};
      for (const answer of ready) for (const [format, n] of Object.entries((answer.formats ?? {}) as Record<string, number>)) formatCounts[format] = (formatCounts[format] ?? 0) + n;
      return { swarm, nodes, formats: formatCounts, failed: ready.reduce((n, answer) => n + (answer.failed as number), 0) };
    } catch (error) {
      await swarm.stop();
      throw error;
    }
  }

  /** Cuts the TCP connection of `fraction` of the open clients, in every process. */
  async cut(fraction: number): Promise<number> {
    for (const kid of this.children) kid.process.send({ cmd: 'cut', fraction });
    const answers = await Promise.all(this.children.map((kid) => this.take(kid, 'cut', 10_000)));
    return answers.reduce((n, answer) => n + (answer.count as number), 0);
  }

  /** Resolves when every client has its merchant's marker (or the timeout passed). */
  async awaitMarkers(timeoutMs: number): Promise<{ done: number; missing: string[]; missingCount: number }> {
    for (const kid of this.children) kid.process.send({ cmd: 'await-markers', timeoutMs });
    const answers = await Promise.all(this.children.map((kid) => this.take(kid, 'markers', timeoutMs + 10_000)));
    return {
      done: answers.reduce((n, a) => n + (a.done as number), 0),
      missing: answers.flatMap((a) => a.missing as string[]),
      missingCount: answers.reduce((n, a) => n + (a.missingCount as number), 0),
    };
  }

  /** Every client's deliveries against the accepted list of its merchant, summed. */
  async verify(accepted: Record<string, string[]>): Promise<VerifyFigures> {
    for (const kid of this.children) kid.process.send({ cmd: 'verify', accepted });
    const answers = (await Promise.all(this.children.map((kid) => this.take(kid, 'verify', 30_000)))) as unknown as VerifyFigures[];
    const sum = (key: keyof VerifyFigures): number => answers.reduce((n, a) => n + (a[key] as number), 0);
    const nodes: Record<string, number> = {};
    for (const a of answers) for (const [url, n] of Object.entries(a.nodes)) nodes[url] = (nodes[url] ?? 0) + n;
    const byFormat: Partial<Record<SdkFormat, FormatFigures>> = {};
    for (const a of answers) {
      for (const [format, figures] of Object.entries(a.byFormat ?? {}) as Array<[SdkFormat, FormatFigures]>) {
        const sum = (byFormat[format] ??= { clients: 0, expected: 0, delivered: 0, lost: 0, duplicates: 0, recoveredEvents: 0 });
        for (const key of Object.keys(sum) as Array<keyof FormatFigures>) sum[key] += figures[key];
      }
    }
    return {
      byFormat,
      clients: sum('clients'),
      expected: sum('expected'),
      delivered: sum('delivered'),
      lost: sum('lost'),
      unexpected: sum('unexpected'),
      duplicates: sum('duplicates'),
      outOfOrder: sum('outOfOrder'),
      wrongOrder: sum('wrongOrder'),
      continuityLost: sum('continuityLost'),
      excused: sum('excused'),
      sdkDuplicatesDropped: sum('sdkDuplicatesDropped'),
      recoveredEvents: sum('recoveredEvents'),
      disconnects: answers.flatMap((a) => a.disconnects),
      reconnects: answers.flatMap((a) => a.reconnects),
      backMs: answers.flatMap((a) => a.backMs),
      stillDown: sum('stillDown'),
      clientsDisconnected: sum('clientsDisconnected'),
      problems: answers.flatMap((a) => a.problems),
      nodes,
    };
  }

  /** Closes every client, then makes sure each process is gone (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (kid) => {
        const child = kid.process;
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        if (child.connected) child.send({ cmd: 'exit' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private take(kid: Child, type: string, timeoutMs: number): Promise<Record<string, any>> {
    const index = kid.inbox.findIndex((message) => message.type === type);
    if (index >= 0) return Promise.resolve(kid.inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        kid.waiters = kid.waiters.filter((w) => w !== waiter);
        reject(new Error(`client process ${kid.process.pid}: no '${type}' within ${timeoutMs} ms; stderr: ${kid.stderr.join('').slice(-2000)}`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (message: Record<string, any>) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      kid.waiters.push(waiter);
    });
  }
}

function spawnChild(): Child {
  const child = spawn(process.execPath, [CLIENT_SCRIPT], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  children.add(child);
  const kid: Child = { process: child, inbox: [], waiters: [], stderr: [] };
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => kid.stderr.push(chunk));
  child.on('message', (message: Record<string, any>) => {
    if (message.type === 'failure') {
      const error = new Error(`client process ${child.pid} failed: ${message.message}`);
      for (const waiter of kid.waiters.splice(0)) waiter.reject(error);
      return;
    }
    const index = kid.waiters.findIndex((waiter) => waiter.type === message.type);
    if (index >= 0) kid.waiters.splice(index, 1)[0]!.resolve(message);
    else kid.inbox.push(message);
  });
  child.once('exit', (code, signal) => {
    children.delete(child);
    const error = new Error(`client process ${child.pid} exited (${code ?? signal}); stderr: ${kid.stderr.join('').slice(-2000)}`);
    for (const waiter of kid.waiters.splice(0)) waiter.reject(error);
  });
  return kid;
}

// ---- Figures ------------------------------------------------------------------------

/** Largest number of timestamps falling in one wall-clock second. */
export function maxPerSecond(timestamps: readonly number[]): { max: number; second: number | undefined } {
  const buckets = new Map<number, number>();
  for (const t of timestamps) {
    const second = Math.floor(t / 1000);
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
  }
  let max = 0;
  let at: number | undefined;
  for (const [second, n] of buckets) {
    if (n > max) {
      max = n;
      at = second;
    }
  }
  return { max, second: at };
}

/** A histogram of timestamps per second relative to `origin`, for the log: "t+3s:67 t+4s:70 ...". */
export function perSecondLine(timestamps: readonly number[], origin: number): string {
  const buckets = new Map<number, number>();
  for (const t of timestamps) {
    const s = Math.floor((t - origin) / 1000);
    buckets.set(s, (buckets.get(s) ?? 0) + 1);
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `t+${s}s:${n}`)
    .join(' ');
}

export function merchantsOf(count: number, label: string): string[] {
  return Array.from({ length: count }, (_, i) => `m_${label}_${i}`);
}

export function markersFor(merchants: readonly string[], run: string): Record<string, string> {
  return Object.fromEntries(merchants.map((merchant) => [merchant, `final_${run}_${merchant}`]));
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
