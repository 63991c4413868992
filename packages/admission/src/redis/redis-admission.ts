/**
 * Redis admission: MAX_CONNECTIONS and MAX_CONNECTIONS_PER_USER held exactly across
 * every edge node by atomic Lua scripts (check and count in one step). Each node keeps
 * its share under a lease renewed by node-cron; a node that dies without cleaning up
 * is reaped once its lease expires, so its count returns within two lease periods.
 *
 * While Redis is unreachable the node admits on its own, up to `fallbackPerNode`
 * connections in total (logged and counted), and resyncs its exact share when Redis
 * is back.
 */
import { KeyLayout, LuaScript, runScript, type AdmissionKeys, type RedisClient, type ScriptArg } from '@herald/redis';
import cron, { type ScheduledTask } from 'node-cron';
import type { Admission, AdmissionLimits, AdmissionResult } from '../admission.js';
import { ACQUIRE, LEAVE, NODE_COUNTS, RELEASE, RENEW, RESYNC } from './scripts.js';

export interface AdmissionLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface RedisAdmissionOptions {
  /** A `commands` client (createRedisClient of @herald/redis): fail fast, no resending. */
  client: RedisClient;
  /** REDIS_KEY_PREFIX; the keys are KeyLayout's `admission(nodeId)`. */
  keyPrefix: string;
  nodeId: string;
  limits: AdmissionLimits;
  /** Lease length; renewed every third of it, so a dead node heals within 2 leases. */
  leaseMs: number;
  /** Connections this node admits alone while Redis is unreachable (null: the global limit). */
  fallbackPerNode: number | null;
  logger?: AdmissionLogger;
}

const SCRIPTS = {
  acquireMany: new LuaScript('admission-acquire', ACQUIRE),
  release: new LuaScript('admission-release', RELEASE),
  renew: new LuaScript('admission-renew', RENEW),
  resync: new LuaScript('admission-resync', RESYNC),
  leave: new LuaScript('admission-leave', LEAVE),
  nodeCounts: new LuaScript('admission-node-counts', NODE_COUNTS),
};

const SILENT: AdmissionLogger = { info() {}, warn() {} };
const ADMITTED: AdmissionResult = Object.freeze({ admitted: true });
const GLOBAL_LIMIT: AdmissionResult = Object.freeze({ admitted: false, reason: 'global-limit' });
const USER_LIMIT: AdmissionResult = Object.freeze({ admitted: false, reason: 'user-limit' });

interface PendingAcquire {
  user: string;
  resolve: (result: AdmissionResult) => void;
}
/** ACQUIRE's answer when this node is not (or no longer) known to Redis. */
const UNKNOWN_NODE = 3;

export class RedisAdmission implements Admission {
  readonly kind = 'redis';
  /** Connections admitted on this node's own authority while Redis was unreachable. */
  fallbackAdmissions = 0;
  private readonly keys: AdmissionKeys;
  private readonly logger: AdmissionLogger;
  /** This node's exact share: the truth that resync writes back. */
  private localTotal = 0;
  private readonly localUsers = new Map<string, number>();
  private degraded: string | undefined;
  private pendingReleases = new Map<string, number>();
  private releaseScheduled = false;
  /** Acquires waiting for the script in flight; sent together as the next one. */
  private pendingAcquires: PendingAcquire[] = [];
  private acquiring = false;
  private renewTask: ScheduledTask | undefined;
  private rejoining: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: RedisAdmissionOptions) {
    this.keys = new KeyLayout(options.keyPrefix).admission(options.nodeId);
    this.logger = options.logger ?? SILENT;
  }

  async start(): Promise<void> {
    await this.resync().catch((error: unknown) => this.degrade(error));
    const seconds = Math.min(30, Math.max(1, Math.floor(this.options.leaseMs / 3000)));
    this.renewTask = cron.schedule(`*/${seconds} * * * * *`, () => this.renew(), { noOverlap: true, unref: true, name: 'herald-admission-lease' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.renewTask?.destroy();
    this.pendingReleases.clear();
    const keys = this.allKeys();
    await this.run(SCRIPTS.leave, keys, [Date.now(), this.keys.nodePrefix, this.options.nodeId]).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not release this node\'s connection count; its lease will expire');
    });
  }

  acquire(user: string): Promise<AdmissionResult> {
    if (this.degraded !== undefined) return Promise.resolve(this.acquireAlone(user));
    // One acquire script in flight at a time: those asked meanwhile (a storm of upgrades)
    // go together in the next one, one round trip, one reap and one ioredis command for
    // all. Alone, an acquire leaves at once. The script counts them in the order asked,
    // each as if alone, so the limits stay exact. bench: connect.
    return new Promise((resolve) => {
      this.pendingAcquires.push({ user, resolve });
      if (!this.acquiring) this.sendAcquires();
    });
  }

  private sendAcquires(): void {
    const batch = this.pendingAcquires;
    this.pendingAcquires = [];
    this.acquiring = true;
    void this.acquireBatch(batch).finally(() => {
      this.acquiring = false;
      if (this.pendingAcquires.length > 0) this.sendAcquires();
    });
  }

  private async acquireBatch(batch: PendingAcquire[]): Promise<void> {
    // Degraded (or stopped) since they were asked: they are decided alone, like any
    // acquire from now on; nothing may reach Redis after this node left it.
    if (this.degraded === undefined && !this.stopped) {
      try {
        const users = batch.map((pending) => pending.user);
        let codes = await this.acquireOnRedis(users);
        if (codes.includes(UNKNOWN_NODE)) {
          // Reaped while alive (a lapsed lease, or Redis lost its data): put the whole
          // share back, then count these.
          await this.rejoin();
          codes = await this.acquireOnRedis(users);
          if (codes.includes(UNKNOWN_NODE)) throw new Error('this node was reaped again right after its resync');
        }
        for (let i = 0; i < batch.length; i++) {
          const { user, resolve } = batch[i]!;
          const code = codes[i];
          if (code === 1) resolve(GLOBAL_LIMIT);
          else if (code === 2) resolve(USER_LIMIT);
          else {
            this.countLocally(user, 1);
            resolve(ADMITTED);
          }
        }
        return;
      } catch (error) {
        this.degrade(error);
      }
    }
    for (const { user, resolve } of batch) resolve(this.acquireAlone(user));
  }

  private acquireOnRedis(users: string[]): Promise<number[]> {
    const { maxConnections, maxConnectionsPerUser } = this.options.limits;
    return this.run<number[]>(SCRIPTS.acquireMany, this.allKeys(), [
      Date.now(),
      this.keys.nodePrefix,
      this.options.nodeId,
      this.leaseUntil(),
      maxConnections ?? -1,
      maxConnectionsPerUser ?? -1,
      ...users,
    ]);
  }

  release(user: string): void {
    this.countLocally(user, -1);
    if (this.degraded !== undefined || this.stopped) return; // resync writes the truth later
    this.pendingReleases.set(user, (this.pendingReleases.get(user) ?? 0) + 1);
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    setImmediate(() => this.flushReleases());
  }

  async count(): Promise<number> {
    const value = await this.options.client.get(this.keys.total);
    return Number(value ?? 0);
  }

  async nodeCounts(): Promise<ReadonlyMap<string, number>> {
    const flat = await this.run<Array<string | number>>(SCRIPTS.nodeCounts, [this.keys.nodes], [Date.now(), this.keys.nodePrefix]);
    const counts = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) counts.set(String(flat[i]), Number(flat[i + 1]));
    return counts;
  }

  degradedReason(): string | undefined {
    return this.degraded;
  }

  /** Renewal tick (node-cron): keep the lease, heal from a reap or an outage. */
  private renew(): void {
    if (this.stopped) return;
    if (this.degraded !== undefined) {
      if (this.options.client.status !== 'ready') return;
      // Back on Redis from the moment the resync is sent: acquires and releases from now
      // on reach Redis after it, so none made alone escapes the share it writes.
      this.degraded = undefined;
      this.resync().then(
        () => this.logger.info({ connections: this.localTotal }, 'admission back on Redis; share resynced'),
        (error: unknown) => this.degrade(error),
      );
      return;
    }
    this.run<number>(SCRIPTS.renew, [this.keys.nodes, this.keys.total, this.keys.users], [Date.now(), this.keys.nodePrefix, this.options.nodeId, this.leaseUntil()])
      .then((reaped) => (reaped === 1 ? this.rejoin() : undefined))
      .catch((error: unknown) => this.degrade(error));
  }

  /**
   * Puts this node's share back after it was reaped. Acquires that found the node
   * unknown were answered before this resync's reply (one connection, in order), so
   * they all wait for this one resync rather than each sending their own.
   */
  private rejoin(): Promise<void> {
    this.rejoining ??= this.resync().finally(() => {
      this.rejoining = undefined;
    });
    return this.rejoining;
  }

  private acquireAlone(user: string): AdmissionResult {
    const cap = this.options.fallbackPerNode ?? this.options.limits.maxConnections;
    if (cap !== null && this.localTotal >= cap) return GLOBAL_LIMIT;
    const perUser = this.options.limits.maxConnectionsPerUser;
    if (user !== '' && perUser !== null && (this.localUsers.get(user) ?? 0) >= perUser) return USER_LIMIT;
    this.countLocally(user, 1);
    this.fallbackAdmissions += 1;
    return ADMITTED;
  }

  private flushReleases(): void {
    this.releaseScheduled = false;
    if (this.pendingReleases.size === 0 || this.degraded !== undefined || this.stopped) return;
    const pairs: Array<string | number> = [];
    for (const [user, count] of this.pendingReleases) pairs.push(user, count);
    this.pendingReleases = new Map();
    this.run(SCRIPTS.release, this.allKeys(), [Date.now(), this.keys.nodePrefix, ...pairs]).catch((error: unknown) => this.degrade(error));
  }

  private async resync(): Promise<void> {
    const pairs: Array<string | number> = [];
    for (const [user, count] of this.localUsers) pairs.push(user, count);
    this.pendingReleases.clear();
    await this.run(SCRIPTS.resync, this.allKeys(), [Date.now(), this.keys.nodePrefix, this.options.nodeId, this.leaseUntil(), this.localTotal, ...pairs]);
  }

  private run<T = unknown>(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<T> {
    return runScript(this.options.client, script, keys, args) as Promise<T>;
  }

  private degrade(error: unknown): void {
    if (this.degraded !== undefined || this.stopped) return;
    this.degraded = `admission store unreachable (${(error as Error).message ?? error}); admitting up to ${this.options.fallbackPerNode ?? this.options.limits.maxConnections ?? 'unlimited'} connections on this node alone`;
    this.logger.warn({ err: error }, 'admission degraded: Redis unreachable');
  }

  private countLocally(user: string, delta: 1 | -1): void {
    this.localTotal = Math.max(0, this.localTotal + delta);
    if (user === '') return;
    const next = (this.localUsers.get(user) ?? 0) + delta;
    if (next <= 0) this.localUsers.delete(user);
    else this.localUsers.set(user, next);
  }

  private leaseUntil(): number {
    return Date.now() + this.options.leaseMs;
  }

  private allKeys(): [string, string, string, string] {
    return [this.keys.nodes, this.keys.total, this.keys.users, this.keys.node];
  }
}
