/**
 * Revocations on Redis (one Redis or a Cluster, through @herald/redis's topology):
 *
 * - store: one string key per `sub` (KeyLayout `revocation`), the instant in epoch ms,
 *   with a PX expiry of REVOCATION_TTL; a script keeps the later instant and the longer
 *   life when a revocation meets a standing one. A check is one GET; many users (after a
 *   missed announcement) go as one pipeline per shard.
 * - announcement: PUBLISH (SPUBLISH on a cluster) of `{sub, before, until}` on
 *   KeyLayout `revocationsChannel`, heard by every edge through a subscriber client of
 *   its own. A feed that was lost (connection closed, the channel's slot moved) is
 *   subscribed again with backoff, and the listener then hears `onMissed`.
 */
import { KeyLayout, LuaScript, runScript, topologyOf, whenReady, type LinkEvents, type PubSubLink, type RedisClient, type RedisTopology } from '@herald/redis';
import type { AdmissionLogger } from './redis-admission.js';
import type { Revocation, RevocationListener, Revocations } from '../revocations.js';

export interface RedisRevocationsOptions {
  /** A `commands` client (createRedisClient of @herald/redis): fail fast, no resending. */
  client: RedisClient;
  /** A `subscriber` client of its own, same topology as `client`; needed by `listen` only. */
  subscriber?: RedisClient;
  /** REDIS_KEY_PREFIX. */
  keyPrefix: string;
  logger?: AdmissionLogger;
}

/**
 * KEYS: the user's revocation key. ARGV: instant (epoch ms), ttl (ms). Keeps the later
 * instant and the longer remaining life; returns {instant, ttl} as stored.
 */
const REVOKE = `
local before = ARGV[1]
local ttl = tonumber(ARGV[2])
local old = redis.call('GET', KEYS[1])
if old then
  if tonumber(old) > tonumber(before) then before = old end
  local left = redis.call('PTTL', KEYS[1])
  if left > ttl then ttl = left end
end
redis.call('SET', KEYS[1], before, 'PX', ttl)
return {before, ttl}
`;

const REVOKE_SCRIPT = new LuaScript('revoke', REVOKE);

const SILENT: AdmissionLogger = { info() {}, warn() {} };
const MIN_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;
/** Bounds a lookup of many users, and the first subscription at `listen`. */
const OPERATION_TIMEOUT_MS = 2_000;

export class RedisRevocations implements Revocations {
  /** `redis` or `redis-cluster`. */
  readonly kind: string;
  private readonly keys: KeyLayout;
  private readonly topology: RedisTopology;
  private readonly logger: AdmissionLogger;
  private link: PubSubLink | undefined;
  private listener: RevocationListener | undefined;
  /** The channel is subscribed on the current connection. */
  private live = false;
  private subscribing = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private degraded: string | undefined = 'revocation feed not subscribed yet';

  constructor(private readonly options: RedisRevocationsOptions) {
    this.keys = new KeyLayout(options.keyPrefix);
    this.topology = topologyOf(options.client);
    this.kind = this.topology.kind;
    this.logger = options.logger ?? SILENT;
  }

  async listen(listener: RevocationListener): Promise<void> {
    const subscriber = this.options.subscriber;
    if (subscriber === undefined) throw new TypeError('RedisRevocations: listening needs a subscriber client');
    this.listener = listener;
    this.link = this.topology.pubsub(subscriber, { commandTimeoutMs: 1_000 });
    this.link.attach(this.linkEvents);
    // Redis may not be there yet: the feed then comes up in the background.
    await whenReady(subscriber, OPERATION_TIMEOUT_MS).catch(() => undefined);
    await this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.live = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.link?.detach();
  }

  async revoke(user: string, before: number, ttlMs: number): Promise<Revocation> {
    const [stored, ttl] = (await runScript(this.options.client, REVOKE_SCRIPT, [this.keys.revocation(user)], [String(before), ttlMs])) as [string, number];
    const revocation: Revocation = { user, before: Number(stored), until: Date.now() + Number(ttl) };
    // Stored first: an edge that misses the announcement still refuses the token at the handshake.
    await this.options.client.call(this.topology.publishCommand, this.keys.revocationsChannel, JSON.stringify({ sub: user, before: revocation.before, until: revocation.until }));
    return revocation;
  }

  async lookup(users: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (users.length === 0) return found;
    if (users.length === 1) {
      const value = await this.options.client.get(this.keys.revocation(users[0]!));
      if (value !== null) found.set(users[0]!, Number(value));
      return found;
    }
    const commands = users.map((user) => {
      const key = this.keys.revocation(user);
      return { slot: this.topology.slotOf(key), command: 'get', args: [key] };
    });
    const replies = await this.topology.runPerShard(commands, { deadline: Date.now() + OPERATION_TIMEOUT_MS, idempotent: true, what: 'revocation lookup' });
    replies.forEach((reply, i) => {
      if (reply instanceof Error) throw reply;
      if (reply !== null && reply !== undefined) found.set(users[i]!, Number(reply));
    });
    return found;
  }

  degradedReason(): string | undefined {
    return this.link === undefined ? undefined : this.degraded;
  }

  // Feed --------------------------------------------------------------------------------

  private readonly linkEvents: LinkEvents = {
    onMessage: (channel, payload) => {
      // Only a subscribed channel delivers: a message may come before `live` is set.
      if (this.stopped || channel.toString() !== this.keys.revocationsChannel) return;
      const revocation = parseAnnouncement(payload.toString('utf8'));
      if (revocation === undefined) {
        this.logger.warn({ channel: this.keys.revocationsChannel }, 'ignoring a malformed revocation announcement');
        return;
      }
      try {
        this.listener?.onRevoked(revocation);
      } catch (error) {
        this.logger.warn({ err: error }, 'revocation listener threw');
      }
    },
    onDown: (reason) => this.lost(reason),
    onLost: (channels, reason) => {
      if (channels.includes(this.keys.revocationsChannel)) this.lost(reason);
    },
    onUp: () => {
      if (!this.live) this.scheduleRetry(true);
    },
  };

  private lost(reason: string): void {
    if (this.stopped) return;
    if (this.live) this.logger.warn({ reason }, 'revocation feed lost; subscribing again');
    this.live = false;
    this.degraded = `revocation feed lost: ${reason}`;
    this.scheduleRetry(false);
  }

  private scheduleRetry(now: boolean): void {
    if (this.stopped || this.live || this.subscribing) return;
    if (this.retryTimer) {
      if (!now) return;
      clearTimeout(this.retryTimer);
    }
    const delay = now ? 0 : this.retryDelayMs;
    this.retryDelayMs = Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, this.retryDelayMs * 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.subscribe();
    }, delay);
    this.retryTimer.unref();
  }

  /** One attempt; on success the listener checks what it may have missed meanwhile. */
  private async subscribe(): Promise<void> {
    const link = this.link;
    if (link === undefined || this.stopped || this.live || this.subscribing) return;
    if (!link.isUp()) {
      this.scheduleRetry(false);
      return;
    }
    this.subscribing = true;
    try {
      await link.syncRoutes?.();
      await link.subscribe([this.keys.revocationsChannel]);
    } catch (error) {
      this.subscribing = false;
      this.degraded = `revocation feed not subscribed: ${error instanceof Error ? error.message : String(error)}`;
      this.scheduleRetry(false);
      return;
    }
    this.subscribing = false;
    if (this.stopped) return;
    const wasDegraded = this.degraded;
    this.live = true;
    this.degraded = undefined;
    this.retryDelayMs = 0;
    if (wasDegraded?.startsWith('revocation feed lost')) this.logger.info({}, 'revocation feed restored');
    try {
      this.listener?.onMissed();
    } catch (error) {
      this.logger.warn({ err: error }, 'revocation listener threw');
    }
  }
}

/** `{sub, before, until}` as published by `revoke`, or undefined. */
function parseAnnouncement(text: string): Revocation | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { sub, before, until } = value as Record<string, unknown>;
  if (typeof sub !== 'string' || sub === '' || !Number.isFinite(before) || !Number.isFinite(until)) return undefined;
  return { user: sub, before: before as number, until: until as number };
}
