/**
 * Driving the load: a fleet of load-generator processes (each holds at most
 * `perProcess` client sockets), and publisher processes, with their IPC reports
 * aggregated here.
 */
import { Histogram } from './hist.mjs';
import { SECRET, forkWorker, sleep } from './proc.mjs';

export class Fleet {
  constructor(workers) {
    this.workers = workers.map((child) => ({ child, last: null, ready: false, openMs: 0, closedAll: false }));
    this.latency = new Histogram();
    this.connect = new Histogram();
    this.listeners = new Set();
    for (const worker of this.workers) {
      worker.child.on('message', (message) => {
        if (message.type !== 'report') return;
        worker.last = message;
        if (message.ready) {
          worker.ready = true;
          worker.openMs = message.openMs;
          worker.openStartedAt = message.openStartedAt;
          worker.openEndedAt = message.openEndedAt;
          worker.openCpuMicros = message.openCpuMicros ?? 0;
        }
        if (message.allClosed) worker.closedAll = true;
        this.latency.merge(message.latency);
        this.connect.merge(message.connect);
        for (const listener of this.listeners) listener();
      });
    }
  }

  /** Forks `processes` load generators and has them open `total` clients between them. */
  static async open(spec) {
    // BENCH_LOAD_PROFILE=<dir>: profile the load generators too (to see what a client costs).
    const execArgv = process.env.BENCH_LOAD_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_LOAD_PROFILE] : [];
    // A soak outlives the generators' default deadline (they stop by themselves).
    const env = spec.deadlineMs ? { BENCH_DEADLINE_MS: String(spec.deadlineMs) } : {};
    const workers = await Promise.all(Array.from({ length: spec.processes }, () => forkWorker('load/clients.mjs', { execArgv, env })));
    const fleet = new Fleet(workers);
    await fleet.start(spec);
    return fleet;
  }

  /**
   * Has the generators open `total` clients between them: at the start, or again after
   * `close({ exit: false })` (warm generators, for rounds that should not pay for the
   * generators' own start-up, JIT compilation and heap growth).
   */
  async start({ total, system, ports, secret = SECRET, channelsOf, sampleConnections = 20, concurrency = 100, reportMs = 100, distinctUsers = false, headers }) {
    const workers = this.workers.map((worker) => worker.child);
    for (const worker of this.workers) Object.assign(worker, { last: null, ready: false, openMs: 0, openCpuMicros: 0, closedAll: false });
    this.latency = new Histogram();
    this.connect = new Histogram();
    const minted = workers.map((child) => new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.type !== 'minted') return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`load generator exited (${code}) before it was ready`)));
    }));
    let first = 0;
    workers.forEach((child, i) => {
      const count = Math.floor(total / workers.length) + (i < total % workers.length ? 1 : 0);
      child.send({
        cmd: 'open',
        protocol: system.meta.protocol,
        path: system.meta.path,
        ports,
        count,
        firstIndex: first,
        secret,
        channelsOf,
        sampleConnections,
        concurrency,
        reportMs,
        distinctUsers,
        headers,
      });
      first += count;
    });
    // Every generator has its tokens and requests ready before any starts connecting:
    // the storm (and `openMs`) holds connecting only, for every generator at once.
    await Promise.all(minted);
    for (const child of workers) child.send({ cmd: 'go' });
    this.total = total;
  }

  /**
   * Churn from now on: `perSecond` clients (over the whole fleet) closed and opened again
   * every second, none of the first `sentinels` (global index), whose frames are
   * `sentinelFrames`.
   */
  churn(perSecond, sentinels) {
    for (const worker of this.workers) {
      const share = this.workers.length === 0 ? 0 : perSecond / this.workers.length;
      worker.child.send({ cmd: 'churn', perSecond: share, sentinels });
    }
  }

  /** Events received by the sentinel clients (never churned). */
  get sentinelFrames() {
    return this.sum('sentinelFrames');
  }

  get churned() {
    return this.sum('churned');
  }

  onReport(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  sum(field) {
    let total = 0;
    for (const worker of this.workers) total += worker.last?.[field] ?? 0;
    return total;
  }

  get frames() {
    return this.sum('frames');
  }

  /** Bytes the clients read (frames with their headers). */
  get bytes() {
    return this.sum('bytes');
  }

  get live() {
    return this.sum('live');
  }

  get errors() {
    return this.sum('errors');
  }

  lastError() {
    for (const worker of this.workers) if (worker.last?.lastError) return worker.last.lastError;
    return '';
  }

  /** CPU seconds used by the load generators so far (their own process.cpuUsage). */
  cpuSeconds() {
    let micros = 0;
    for (const worker of this.workers) if (worker.last) micros += worker.last.cpu.user + worker.last.cpu.system;
    return micros / 1e6;
  }

  /** CPU seconds the load generators used from `go` until each had opened all its clients. */
  openCpuSeconds() {
    let micros = 0;
    for (const worker of this.workers) micros += worker.openCpuMicros ?? 0;
    return micros / 1e6;
  }

  /** Resolves when every generator has opened (or failed) all its clients. */
  async waitReady({ timeoutMs = 120_000, progress } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastLog = 0;
    while (!this.workers.every((w) => w.ready)) {
      if (Date.now() > deadline) throw new Error(`clients not ready within ${timeoutMs} ms: ${this.live}/${this.total} live, ${this.errors} errors, ${this.lastError()}`);
      if (progress && Date.now() - lastLog >= 2000) {
        lastLog = Date.now();
        progress(`connecting: ${this.live}/${this.total} live, ${this.errors} errors`);
      }
      await sleep(50);
    }
    if (this.errors > 0) progress?.(`${this.errors} clients failed: ${this.lastError()}`);
    if (this.errors > this.total / 100) throw new Error(`${this.errors} of ${this.total} clients failed: ${this.lastError()}`);
    // From the first generator's first connect to the last generator's last `connected`.
    const openMs = Math.max(...this.workers.map((w) => w.openEndedAt)) - Math.min(...this.workers.map((w) => w.openStartedAt));
    return { live: this.live, errors: this.errors, openMs };
  }

  /** Asks every generator for a fresh report and waits for it. */
  async refresh() {
    const pending = this.workers.map(
      (worker) =>
        new Promise((resolve) => {
          const onMessage = (message) => {
            if (message.type !== 'report') return;
            worker.child.off('message', onMessage);
            resolve();
          };
          worker.child.on('message', onMessage);
          worker.child.send({ cmd: 'report' });
        }),
    );
    await Promise.race([Promise.all(pending), sleep(2000)]);
  }

  /** Frames per connection, per generator: how evenly deliveries were spread. */
  async spread() {
    return Promise.all(
      this.workers.map(
        (worker) =>
          new Promise((resolve) => {
            const onMessage = (message) => {
              if (message.type !== 'spread') return;
              worker.child.off('message', onMessage);
              resolve(message);
            };
            worker.child.on('message', onMessage);
            worker.child.send({ cmd: 'spread' });
            setTimeout(() => resolve(null), 2000);
          }),
      ),
    );
  }

  /** Closes every client; the generators exit unless `exit` is false (see `start`). */
  async close({ timeoutMs = 20_000, exit = true } = {}) {
    for (const worker of this.workers) if (worker.child.connected) worker.child.send({ cmd: 'close' });
    const deadline = Date.now() + timeoutMs;
    while (!this.workers.every((w) => w.closedAll || !w.child.connected) && Date.now() < deadline) await sleep(50);
    if (exit) await this.exit();
  }

  async exit() {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise((resolve) => {
            if (worker.child.exitCode !== null || !worker.child.connected) return resolve();
            worker.child.once('exit', resolve);
            worker.child.send({ cmd: 'exit' });
            setTimeout(() => {
              try {
                process.kill(worker.child.pid, 'SIGKILL');
              } catch {
                // gone
              }
              resolve();
            }, 3000);
          }),
      ),
    );
  }
}

export class Publisher {
  constructor(child) {
    this.child = child;
    this.last = { sent: 0, accepted: 0, rejected: 0, requests: 0, errors: 0, lastError: '', cpu: { user: 0, system: 0 } };
    this.request = new Histogram();
    child.on('message', (message) => {
      if (message.type !== 'report') return;
      this.last = message;
      this.request.merge(message.request);
      if (message.stopped) this.stopped?.();
    });
  }

  static async start(spec) {
    const child = await forkWorker('load/publisher.mjs', { env: spec.deadlineMs ? { BENCH_DEADLINE_MS: String(spec.deadlineMs) } : {} });
    const publisher = new Publisher(child);
    child.send({ cmd: 'start', runId: `r${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`, reportMs: 100, ...spec });
    return publisher;
  }

  credit(upTo) {
    if (this.child.connected) this.child.send({ cmd: 'credit', upTo });
  }

  get accepted() {
    return this.last.accepted;
  }

  cpuSeconds() {
    return (this.last.cpu.user + this.last.cpu.system) / 1e6;
  }

  async stop() {
    if (!this.child.connected) return;
    await Promise.race([new Promise((resolve) => { this.stopped = resolve; this.child.send({ cmd: 'stop' }); }), sleep(5000)]);
  }

  async exit() {
    if (this.child.exitCode !== null || !this.child.connected) return;
    await new Promise((resolve) => {
      this.child.once('exit', resolve);
      this.child.send({ cmd: 'exit' });
      setTimeout(resolve, 3000);
    });
  }
}

/** Prints progress lines: `[scenario +12.3s] message`. */
/**
 * Progress lines of one scenario: `[fanout +12.3s] ...`. In a run of several
 * (`pnpm bench all`), also where the run stands: `[2/6 fanout +12.3s, all 4m05s] ...`.
 */
export function progressFor(scenario, run = undefined) {
  const started = Date.now();
  return (message) => {
    const own = `${scenario} +${((Date.now() - started) / 1000).toFixed(1)}s`;
    const head = run === undefined || run.total < 2 ? own : `${run.index}/${run.total} ${own}, all ${clock(Date.now() - run.started)}`;
    process.stdout.write(`[${head}] ${message}\n`);
  };
}

function clock(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}
