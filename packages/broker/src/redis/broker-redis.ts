/**
 * The Redis engines of the Broker: one Redis (PUBLISH/SUBSCRIBE) or Redis Cluster
 * (SPUBLISH/SSUBSCRIBE, sharded pub/sub). The clients are injected: a command client
 * for the publish script, history and position, and a subscriber client used only for
 * pub/sub. The key layout, the clients and what differs between one Redis and a
 * Cluster (routing, retries, the pub/sub link) are @herald/redis's; lua.ts holds the
 * scripts and channel-store.ts / event-store.ts the command side; this file is the
 * lifecycle and the subscriber side.
 *
 * Delivery: the script publishes "<seq> <envelope>"; the subscriber splits it without
 * decoding the envelope and hands the listener a subarray of ioredis's Buffer.
 *
 * Disconnections: when the subscriber connection (or a shard's) or the command
 * connection is lost, the state is `disconnected` and the listener hears
 * `onDisconnected` once. Publications are not delivered until every channel is
 * re-subscribed and the command client is back (the listener's gap fill needs it);
 * then the state is `ready` again and the listener hears `onResubscribed`, and fills
 * the gap from history. Dropping live messages in between is what makes that fill
 * exact: the hub reads history from the last seq it delivered, so nothing it skipped
 * can be lost.
 *
 * Partial losses (a cluster): when only some channels lose their subscription (one
 * shard's connection ended, a slot moved to another node), and the listener has
 * `onChannelsLost`/`onChannelsRestored`, only those channels stop: the listener hears
 * onChannelsLost for them, their publications are dropped, they are subscribed again
 * (on the slot's current owner) with backoff, and onChannelsRestored tells the listener
 * to fill their gap from history, the same fill as after a disconnection. The state
 * stays `ready` meanwhile. A listener without those hooks hears a disconnection instead.
 */
import {
  DEFAULT_KEY_PREFIX,
  KeyLayout,
  closeClient,
  topologyOf,
  watchClientErrors,
  whenReady,
  withDeadline,
  type LinkEvents,
  type PubSubLink,
  type RedisClient,
} from '@herald/redis';
import { BrokerUnavailableError, type Broker, type BrokerListener, type BrokerState, type EventPublishRequest, type EventPublishResult, type HistoryResult } from '../broker.js';
import { retentionOf, type RetentionOptions, type RetentionSettings } from '../retention.js';
import { RedisChannelStore } from './channel-store.js';
import { RedisEventStore } from './event-store.js';
import { toBrokerError } from './errors.js';
import type { BrokerLogger } from './logger.js';
import { Subscriptions } from './subscriptions.js';

export type { RedisClient };

export interface RedisBrokerOptions {
  /** Commands: the publish script, history, position. Best with enableOfflineQueue: false. */
  client: RedisClient;
  /** Pub/sub only; a Cluster needs `shardedSubscribers: true`. Same topology as `client`. */
  subscriber: RedisClient;
  /** Prefix of every key and channel (default `herald`). */
  keyPrefix?: string;
  /** Settings left out take their defaults; the engine derives its windows (`retentionOf`). */
  retention?: Partial<RetentionSettings>;
  logger?: BrokerLogger;
  /** Upper bound of publish/history/position before BrokerUnavailableError (default 3000). */
  operationTimeoutMs?: number;
  /** How long start() waits for both clients to be ready (default 10000). */
  startTimeoutMs?: number;
  /** Whether stop() closes the clients (default true: the broker owns them). */
  closeClientsOnStop?: boolean;
}

const MIN_RECOVERY_DELAY_MS = 50;
const MAX_RECOVERY_DELAY_MS = 2_000;
/** Lost channels are retried at least this often: a promoted replica is found soon after. */
const MAX_RESTORE_DELAY_MS = 1_000;

export class RedisBroker implements Broker {
  readonly kind: 'redis' | 'redis-cluster';
  readonly keys: KeyLayout;
  /** The windows derived from the settings. */
  readonly retention: RetentionOptions;

  private readonly client: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly link: PubSubLink;
  private readonly subscriptions: Subscriptions;
  private readonly logger: BrokerLogger | undefined;
  private readonly operationTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly closeClientsOnStop: boolean;
  private readonly store: RedisChannelStore;
  private readonly events: RedisEventStore;

  private listener: BrokerListener | undefined;
  private started = false;
  /** The subscription side's state; `state` also reflects the command client. */
  private phase: BrokerState = 'connecting';
  private recovering = false;
  private recoverAgain = false;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private recoveryDelayMs = 0;
  /** The listener takes per-channel losses (and the link can tell them). */
  private partial = false;
  private restoring = false;
  private restoreTimer: NodeJS.Timeout | undefined;
  private restoreDelayMs = 0;
  /** Channels restored since the last log line about it. */
  private restoredSinceLog = 0;

  constructor(options: RedisBrokerOptions) {
    // One Redis or a Cluster: every difference is behind the topology (@herald/redis).
    const topology = topologyOf(options.client);
    this.kind = topology.kind;
    this.client = options.client;
    this.subscriber = options.subscriber;
    this.keys = new KeyLayout(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.retention = retentionOf(options.retention);
    this.logger = options.logger;
    this.operationTimeoutMs = options.operationTimeoutMs ?? 3_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.closeClientsOnStop = options.closeClientsOnStop ?? true;
    try {
      this.link = topology.pubsub(options.subscriber, { commandTimeoutMs: Math.min(1_000, this.operationTimeoutMs) });
    } catch (error) {
      throw new TypeError(`RedisBroker: ${(error as Error).message}`);
    }
    this.subscriptions = new Subscriptions(this.link, this.onCommandFailed, this.onRestored);
    this.store = new RedisChannelStore(topology, this.keys, this.retention, this.operationTimeoutMs);
    this.events = new RedisEventStore(topology, this.keys, this.store, this.retention, this.operationTimeoutMs);
    // Before anything can connect: an ioredis client without an error handler crashes
    // the process on the first refused connection. Clients from createRedisClient have
    // one already.
    if (this.client.listenerCount('error') === 0) watchClientErrors(this.client, `${this.kind} commands`, this.logger);
    if (this.subscriber.listenerCount('error') === 0) watchClientErrors(this.subscriber, `${this.kind} subscriber`, this.logger);
  }

  get state(): BrokerState {
    // Ready means both halves work: ingest only publishes, and a node whose command
    // connection is down cannot fill gaps either.
    if (this.phase === 'ready' && this.client.status !== 'ready') return 'disconnected';
    return this.phase;
  }

  async start(listener: BrokerListener): Promise<void> {
    if (this.phase === 'closed') throw new BrokerUnavailableError('redis broker is closed');
    if (this.started) throw new Error('redis broker already started');
    this.started = true;
    this.listener = listener;
    this.partial = this.link.independentShards === true && typeof listener.onChannelsLost === 'function' && typeof listener.onChannelsRestored === 'function';
    this.link.attach(this.linkEvents);
    this.client.on('close', this.onCommandsDown);
    this.client.on('ready', this.onLinkUp);
    try {
      await Promise.all([whenReady(this.client, this.startTimeoutMs), whenReady(this.subscriber, this.startTimeoutMs)]);
    } catch (error) {
      throw toBrokerError(error, 'connect');
    }
    if (this.phase !== 'connecting') throw new BrokerUnavailableError('redis broker was stopped while starting');
    this.phase = 'ready';
    this.subscriptions.resume();
    this.logger?.info({ broker: this.kind, keyPrefix: this.keys.prefix }, 'broker connected');
  }

  async stop(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    if (this.restoreTimer) clearTimeout(this.restoreTimer);
    this.restoreTimer = undefined;
    this.subscriptions.close();
    this.link.detach();
    this.client.off('close', this.onCommandsDown);
    this.client.off('ready', this.onLinkUp);
    if (this.closeClientsOnStop) await Promise.all([closeClient(this.client), closeClient(this.subscriber)]);
  }

  async publishEvents(events: readonly EventPublishRequest[]): Promise<Array<EventPublishResult | Error>> {
    this.assertUsable();
    return this.events.publishEvents(events);
  }

  async subscribe(channel: string): Promise<void> {
    this.assertUsable();
    return this.subscriptions.add(this.keys.pubsub(channel), channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    return this.subscriptions.remove(this.keys.pubsub(channel));
  }

  async history(channel: string, since: string): Promise<HistoryResult> {
    this.assertUsable();
    return this.store.history(channel, since);
  }

  async position(channel: string): Promise<string | undefined> {
    this.assertUsable();
    return this.store.position(channel);
  }

  // Subscriber side -----------------------------------------------------------------

  /** The delivery hot path: one lookup and one split per message, no allocation of closures. */
  private readonly onMessage = (redisChannel: Buffer, payload: Buffer): void => {
    // While disconnected nothing is delivered: the gap fill after onResubscribed
    // reads these from history, in order.
    if (this.phase !== 'ready') return;
    const channel = this.subscriptions.lookup(redisChannel.toString());
    if (channel === undefined) return;
    const space = payload.indexOf(0x20);
    if (space <= 0) return;
    try {
      this.listener!.onPublication(channel, payload.toString('latin1', 0, space), payload.subarray(space + 1));
    } catch (error) {
      // The listener must not throw; if it does, it must not break ioredis's parser.
      this.logger?.error({ err: error, channel }, 'broker listener threw on a publication');
    }
  };

  private readonly onLinkDown = (reason: string): void => {
    if (this.phase === 'ready') {
      this.phase = 'disconnected';
      this.subscriptions.suspend();
      this.logger?.warn({ broker: this.kind, reason }, 'broker subscriptions lost; resubscribing when Redis is back');
      this.notify('onDisconnected');
    } else if (this.phase === 'disconnected') {
      // Lost again while recovering: an ongoing resync must not count.
      this.subscriptions.suspend();
    } else {
      return;
    }
    // A cluster stays up when one shard is lost; a single Redis will emit `ready`.
    if (this.link.isUp()) this.scheduleRecovery(false);
  };

  /**
   * The command connection is lost: subscriptions may be intact, but the listener
   * cannot fill gaps, so it hears the same disconnection, and the same
   * onResubscribed once both sides are back (its cue to fill). Treated exactly like
   * a subscriber loss, resubscription included, to keep one invariant: nothing is
   * delivered, and no subscribe resolves, unless the broker is ready.
   */
  private readonly onCommandsDown = (): void => {
    this.onLinkDown('command connection closed');
  };

  private readonly onLinkUp = (): void => {
    if (this.phase === 'disconnected') this.scheduleRecovery(true);
    // A shard subscriber (re)connected: lost channels may be subscribable now.
    else if (this.phase === 'ready' && this.subscriptions.lostCount > 0) this.scheduleRestore(true);
  };

  /** Only these subscriptions are gone; the other channels keep delivering. */
  private readonly onLinkLost = (redisChannels: readonly string[], reason: string): void => {
    if (!redisChannels.some((redisChannel) => this.subscriptions.channelOf(redisChannel) !== undefined)) return;
    // While recovering from a disconnection, a resync that may have counted these
    // channels must not count: treated as one more disconnection.
    if (this.phase !== 'ready' || !this.partial) {
      this.onLinkDown(reason);
      return;
    }
    const lost = this.subscriptions.lose(redisChannels);
    if (lost.length === 0) return;
    this.logger?.warn({ broker: this.kind, reason, channels: lost.length, lost: this.subscriptions.lostCount }, 'broker subscriptions lost on part of the cluster; resubscribing them');
    this.notifyChannels('onChannelsLost', lost);
    this.scheduleRestore(false);
  };

  private readonly onRestored = (redisChannels: readonly string[]): void => {
    if (this.phase !== 'ready') return;
    this.restoredSinceLog += redisChannels.length;
    this.notifyChannels('onChannelsRestored', redisChannels);
  };

  private readonly linkEvents: LinkEvents = {
    onMessage: this.onMessage,
    onDown: this.onLinkDown,
    onUp: this.onLinkUp,
    onLost: this.onLinkLost,
  };

  private readonly onCommandFailed = (error: unknown, redisChannels: readonly string[]): void => {
    this.logger?.warn({ err: error, broker: this.kind }, 'pub/sub command failed');
    if (this.partial) this.onLinkLost(redisChannels, 'a subscribe command failed');
    else this.onLinkDown('a subscribe command failed');
  };

  private scheduleRestore(now: boolean): void {
    if (this.phase !== 'ready' || this.restoring) return;
    if (this.restoreTimer) {
      if (!now) return;
      clearTimeout(this.restoreTimer);
    }
    const delay = now ? 0 : this.restoreDelayMs;
    this.restoreDelayMs = Math.min(MAX_RESTORE_DELAY_MS, Math.max(MIN_RECOVERY_DELAY_MS, this.restoreDelayMs * 2));
    this.restoreTimer = setTimeout(this.restore, delay);
    this.restoreTimer.unref();
  }

  /** One attempt at subscribing the lost channels again; retried with backoff while any remain. */
  private readonly restore = async (): Promise<void> => {
    this.restoreTimer = undefined;
    if (this.phase !== 'ready' || this.subscriptions.lostCount === 0) return;
    this.restoring = true;
    try {
      // Each command has its own deadline (the link's); this one only bounds the round.
      const round = async (): Promise<void> => {
        await this.link.syncRoutes?.();
        await this.subscriptions.restoreLost();
      };
      await withDeadline(round(), 2 * this.operationTimeoutMs, 'resubscribe lost channels');
    } catch (error) {
      this.logger?.warn({ err: error, broker: this.kind }, 'resubscribing lost channels failed');
    } finally {
      this.restoring = false;
    }
    if (this.restoredSinceLog > 0) {
      // One line per round, not per slot.
      this.logger?.info({ broker: this.kind, channels: this.restoredSinceLog, lost: this.subscriptions.lostCount }, 'broker subscriptions restored on part of the cluster');
      this.restoredSinceLog = 0;
    }
    if (this.subscriptions.lostCount === 0) this.restoreDelayMs = 0;
    else this.scheduleRestore(false);
  };

  private notifyChannels(event: 'onChannelsLost' | 'onChannelsRestored', redisChannels: readonly string[]): void {
    const channels: string[] = [];
    for (const redisChannel of redisChannels) {
      const channel = this.subscriptions.channelOf(redisChannel);
      if (channel !== undefined) channels.push(channel);
    }
    if (channels.length === 0) return;
    try {
      this.listener?.[event]?.(channels);
    } catch (error) {
      this.logger?.error({ err: error }, `broker listener threw in ${event}`);
    }
  }

  private scheduleRecovery(now: boolean): void {
    if (this.phase !== 'disconnected') return;
    if (this.recovering) {
      this.recoverAgain = true;
      return;
    }
    if (this.recoveryTimer) {
      if (!now) return;
      clearTimeout(this.recoveryTimer);
    }
    const delay = now ? 0 : this.recoveryDelayMs;
    this.recoveryDelayMs = Math.min(MAX_RECOVERY_DELAY_MS, Math.max(MIN_RECOVERY_DELAY_MS, this.recoveryDelayMs * 2));
    this.recoveryTimer = setTimeout(this.recover, delay);
    this.recoveryTimer.unref();
  }

  private readonly recover = async (): Promise<void> => {
    this.recoveryTimer = undefined;
    // Each side's `ready` event calls again: wait for both.
    if (this.phase !== 'disconnected' || !this.link.isUp() || this.client.status !== 'ready') return;
    this.recovering = true;
    this.recoverAgain = false;
    let ok = false;
    try {
      ok = await withDeadline(this.subscriptions.resync(), this.operationTimeoutMs, 'resubscribe');
    } catch (error) {
      this.logger?.warn({ err: error, broker: this.kind }, 'resubscribe attempt failed');
    } finally {
      this.recovering = false;
    }
    if (this.phase !== 'disconnected') return;
    if (!ok) {
      // Replies still in flight must not count for the next attempt.
      this.subscriptions.suspend();
      this.scheduleRecovery(this.recoverAgain);
      return;
    }
    this.phase = 'ready';
    this.recoveryDelayMs = 0;
    this.restoreDelayMs = 0;
    this.subscriptions.resume();
    this.logger?.info({ broker: this.kind, channels: this.subscriptions.size }, 'broker subscriptions restored');
    this.notify('onResubscribed');
  };

  private notify(event: 'onDisconnected' | 'onResubscribed'): void {
    try {
      this.listener?.[event]();
    } catch (error) {
      this.logger?.error({ err: error }, `broker listener threw in ${event}`);
    }
  }

  private assertUsable(): void {
    if (this.phase === 'closed') throw new BrokerUnavailableError('redis broker is closed');
    if (!this.started) throw new BrokerUnavailableError('redis broker is not started');
  }
}
