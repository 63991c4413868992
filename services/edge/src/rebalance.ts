/**
 * Rebalancing (REBALANCE_THRESHOLD): after a rolling restart the last node restarted is
 * nearly empty and the others hold its clients; a client only moves when its node
 * closes it. A node with more than `threshold` times the cluster's average connections
 * (per node, from the connection counter) closes the excess with 1001 so its clients
 * reconnect elsewhere (the SDK avoids the node that said 1001, and resumes with `since`:
 * nothing is lost), gently: at most 1% of its connections per second, picked at random,
 * and never below the average.
 */
import type { Admission } from '@herald/admission';
import { Counter, type Logger, type Registry } from '@herald/runtime';

/** Share of the node's connections (when shedding began) closed per second, at most. */
const SHED_SHARE_PER_SECOND = 0.01;
/** How often the cluster's counts are read while nothing is being shed. */
const CHECK_EVERY_MS = 5_000;
const TICK_MS = 1_000;
/**
 * How long a shed client may be on its way to another node (the SDK's going-away delay,
 * up to 8 s, and its reconnect): counted nowhere meanwhile, so the node counts it still,
 * or the average would dip and the node shed below it.
 */
const IN_FLIGHT_MS = 10_000;

export interface Shedable {
  readonly closing: boolean;
}

export interface RebalanceHost<S extends Shedable> {
  readonly nodeId: string;
  readonly admission: Pick<Admission, 'nodeCounts'>;
  /** This node's open sessions (its own count is the truth, not the counter's). */
  readonly sessions: ReadonlySet<S>;
  /** Closes one session with 1001 (rebalancing). */
  shed(session: S): void;
  readonly logger: Logger;
  readonly registry: Registry;
}

export class Rebalancer<S extends Shedable> {
  private timer: NodeJS.Timeout | undefined;
  private readonly closes: Counter<string>;
  /** While shedding: the count to shed down to, and how many per tick. */
  private episode: { target: number; perTick: number; shed: number; startedAt: number } | undefined;
  private lastCheck = 0;
  /** When each recent close happened (see IN_FLIGHT_MS). */
  private recentSheds: number[] = [];
  private checking = false;

  constructor(
    private readonly host: RebalanceHost<S>,
    /** Ratio to the average above which the node sheds (> 1). */
    private readonly threshold: number,
  ) {
    this.closes = new Counter({
      name: 'herald_edge_rebalance_closes_total',
      help: 'Connections closed with 1001 to move them to less loaded nodes (REBALANCE_THRESHOLD)',
      registers: [host.registry],
    });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.episode = undefined;
  }

  private tick(): void {
    if (this.episode) this.shedSome(this.episode);
    const every = this.episode ? TICK_MS * 5 : CHECK_EVERY_MS;
    if (this.checking || Date.now() - this.lastCheck < every) return;
    this.checking = true;
    this.lastCheck = Date.now();
    this.host.admission
      .nodeCounts()
      .then((counts) => this.assess(counts))
      .catch((error: unknown) => this.host.logger.debug({ err: error }, 'rebalance: node counts unavailable'))
      .finally(() => {
        this.checking = false;
      });
  }

  /** Compares this node with the average of every live node, this one by its own count. */
  private assess(counts: ReadonlyMap<string, number>): void {
    if (!this.timer) return;
    const own = this.openCount();
    const all = new Map(counts);
    all.set(this.host.nodeId, own);
    if (all.size < 2) return;
    const now = Date.now();
    this.recentSheds = this.recentSheds.filter((at) => now - at < IN_FLIGHT_MS);
    let total = this.recentSheds.length;
    for (const count of all.values()) total += count;
    const average = total / all.size;
    const target = Math.ceil(average);
    // 1% of the most connections seen in the episode: the pace does not fade as the node
    // empties, nor stay at a crawl when shedding began while clients were still arriving.
    const perTick = Math.max(1, Math.floor(own * SHED_SHARE_PER_SECOND * (TICK_MS / 1000)));
    if (this.episode) {
      // Clients arriving meanwhile (the episode may start while they still connect, or
      // while another node's drained clients are in flight) raise the average: aim
      // higher, never lower, so the node does not shed below where it ends.
      this.episode.target = Math.max(this.episode.target, target);
      this.episode.perTick = Math.max(this.episode.perTick, perTick);
      return;
    }
    if (own <= this.threshold * average || own <= target) return;
    this.episode = { target, perTick, shed: 0, startedAt: Date.now() };
    this.host.logger.info(
      { connections: own, average: Math.round(average), nodes: all.size, threshold: this.threshold, target, perSecond: perTick },
      'rebalancing: closing connections above the cluster average with 1001',
    );
  }

  private shedSome(episode: NonNullable<Rebalancer<S>['episode']>): void {
    const open = this.openSessions();
    const excess = open.length - episode.target;
    if (excess <= 0) {
      this.host.logger.info({ connections: open.length, closed: episode.shed, seconds: Math.round((Date.now() - episode.startedAt) / 1000) }, 'rebalanced');
      this.episode = undefined;
      return;
    }
    // Random picks: no user, channel or age is favoured.
    for (let n = Math.min(excess, episode.perTick); n > 0; n--) {
      const i = Math.floor(Math.random() * open.length);
      const session = open[i]!;
      open[i] = open[open.length - 1]!;
      open.pop();
      this.host.shed(session);
      this.recentSheds.push(Date.now());
      this.closes.inc();
      episode.shed += 1;
    }
  }

  private openSessions(): S[] {
    const open: S[] = [];
    for (const session of this.host.sessions) if (!session.closing) open.push(session);
    return open;
  }

  private openCount(): number {
    let count = 0;
    for (const session of this.host.sessions) if (!session.closing) count += 1;
    return count;
  }
}
