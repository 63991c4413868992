/**
 * The client: one state machine over one transport at a time.
 *
 *   closed --connect()--> connecting --connected frame--> open
 *   open --connection lost--> reconnecting --(backoff, getToken?)--> ... --> open
 *   any --close()--> closing --socket closed--> closed
 *   open --server 1000 / refused token without getToken--> closed
 *
 * Subscriptions outlive connections: after every `connected` frame each one is sent
 * again with `since` = the last seq it delivered, and duplicates are dropped by seq.
 * With `getToken`, the token is renewed on the live connection before it expires
 * (`refresh`, token-refresh.ts).
 * Frames are routed in `router.ts`, commands and subscriptions live in `commands.ts`;
 * this file owns connections, their timers and the reconnect policy.
 */
import { CloseCode, isValidChannel, isValidSeq } from '@herald/protocol';
import { reconnectDelay } from './backoff.js';
import type {
  ChannelStats,
  ClientEvents,
  ClientState,
  ClientStats,
  ConnectedInfo,
  DisconnectInfo,
  SubscribeOptions,
} from './client-types.js';
import { Timer } from './clock.js';
import { codecFor, jsonCodec, type ClientFormat, type FrameCodec } from './codec.js';
import { Commands } from './commands.js';
import { Emitter, type Listener } from './emitter.js';
import { HeraldError } from './errors.js';
import type { EventMap, HeraldEventMap } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { DEFAULT_PING_INTERVAL, DEFAULT_READ_TIMEOUT, normaliseUrl, resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { FrameRouter } from './router.js';
import { Subscription } from './subscription.js';
import { TokenRefresh } from './token-refresh.js';
import { fetchToken } from './token-source.js';
import type { Transport, TransportFactory, TransportHandlers } from './transport.js';

/** One connection attempt and, once open, the connection. */
class Connection {
  transport: Transport | undefined = undefined;
  constructor(readonly url: string) {}
  /** The WebSocket handshake completed. */
  opened = false;
  /** The `connected` frame arrived. */
  connected = false;
  connectedAt = 0;
  /** `close()` was called on it. */
  closing = false;
  lastError: string | undefined = undefined;
}

function noop(): void {}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The platform-neutral client. Import `HeraldClient` from the package: the Node entry
 * and the browser entry each bind it to their default transport.
 */
export class HeraldClientCore<M extends EventMap = HeraldEventMap> {
  private readonly options: ResolvedOptions;
  /** The wire format of every connection of this client. */
  private readonly codec: FrameCodec;
  private readonly emitter = new Emitter<ClientEvents>();
  private readonly commands: Commands;
  private readonly router: FrameRouter;
  private readonly heartbeat: Heartbeat;
  private readonly reconnectTimer: Timer;
  private readonly connectTimer: Timer;
  private readonly closeTimer: Timer;
  private readonly tokenRefresh: TokenRefresh;
  private currentState: ClientState = 'closed';
  private conn: Connection | undefined;
  /** Bumped whenever in-flight async work (getToken, transport creation) must be abandoned. */
  private generation = 0;
  /** Consecutive failures, the backoff exponent. */
  private failures = 0;
  private needToken = false;
  private token: string | undefined;
  /** The URL of the last attempt and how it ended: the next attempt goes elsewhere if it can. */
  private lastUrl: string | undefined;
  private lastCode: number | undefined;
  private info: ConnectedInfo | undefined;
  private openWaiters: { resolve: (info: ConnectedInfo) => void; reject: (error: Error) => void }[] = [];
  private closeWaiters: (() => void)[] = [];
  private readonly counters = { connects: 0, reconnects: 0, reconnectAttempts: 0, disconnects: 0, unroutedEvents: 0 };

  /**
   * `codecs`: the formats the entry provides besides JSON (the protobuf entry passes
   * its codec); `options.format` picks one.
   */
  constructor(
    options: ClientOptions,
    private readonly transportFactory: TransportFactory,
    codecs: readonly FrameCodec[] = [],
  ) {
    this.options = resolveOptions(options);
    this.codec = codecFor(this.options.format, [jsonCodec, ...codecs]);
    this.token = this.options.token;
    const timers = this.options.timers;
    this.commands = new Commands(this.options, {
      isOpen: () => this.isOpen(),
      write: (command) => this.conn?.transport?.send(this.codec.encode(command)),
      abandon: (code, reason) => this.abandon(code, reason),
    });
    this.heartbeat = new Heartbeat(
      timers,
      () => this.commands.heartbeatPing(),
      (silentFor) => this.abandon(CloseCode.Abnormal, `read timeout: nothing received for ${silentFor} ms`),
    );
    this.reconnectTimer = new Timer(timers, () => {
      this.counters.reconnectAttempts++;
      void this.attempt();
    });
    this.connectTimer = new Timer(timers, () => this.abandon(CloseCode.Abnormal, 'connect timeout'));
    this.closeTimer = new Timer(timers, () => {
      this.conn?.transport?.terminate();
      this.finishClosed(CloseCode.Normal, 'close timeout');
    });
    this.tokenRefresh = new TokenRefresh(this.options, {
      send: (token) => (this.isOpen() ? this.commands.refresh(token) : Promise.reject(new HeraldError('transport', 'Not connected'))),
      adopt: (token, expiresAt) => {
        this.token = token;
        if (this.info) this.info = withExpiry(this.info, expiresAt);
      },
      emitError: (error) => this.emitter.emit('error', error),
    });
    this.router = new FrameRouter({
      commands: this.commands,
      onConnected: (data) => this.onConnected(data),
      onUnrouted: () => {
        this.counters.unroutedEvents++;
      },
      emitError: (error) => this.emitter.emit('error', error),
      now: () => timers.now(),
    });
  }

  // ---- Public surface ----------------------------------------------------------------

  get state(): ClientState {
    return this.currentState;
  }

  /** The wire format (`format` option): `json` or `protobuf`. */
  get format(): ClientFormat {
    return this.codec.format;
  }

  /** The current connection, while `open`. */
  get connection(): ConnectedInfo | undefined {
    return this.info;
  }

  on<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.emitter.on(type, listener);
  }

  once<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.emitter.once(type, listener);
  }

  off<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): void {
    this.emitter.off(type, listener);
  }

  /**
   * Starts connecting (from `closed`) and resolves with the next `connected`; rejects if
   * the client reaches `closed` first. Reconnects happen on their own after that.
   */
  connect(): Promise<ConnectedInfo> {
    if (this.currentState === 'closing') {
      this.conn?.transport?.terminate();
      this.finishClosed(CloseCode.Normal, 'closed');
    }
    if (this.currentState === 'open' && this.info) return Promise.resolve(this.info);
    const opened = new Promise<ConnectedInfo>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    opened.catch(noop); // a caller that does not await must not cause an unhandled rejection
    if (this.currentState === 'closed') {
      this.failures = 0;
      this.setState('connecting');
      void this.attempt();
    }
    return opened;
  }

  /**
   * Closes for good: no reconnect, no timer left. Subscriptions are kept (in
   * `subscribing`), so a later `connect()` resumes them from their last seq.
   */
  close(code: number = CloseCode.Normal, reason = 'client closed'): Promise<void> {
    if (this.currentState === 'closed') return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (this.currentState === 'closing') return closed;
    this.generation++;
    this.reconnectTimer.stop();
    const conn = this.conn;
    if (conn?.transport && conn.opened) {
      conn.closing = true;
      this.teardown();
      this.closeTimer.start(this.options.closeTimeout);
      conn.transport.close(code, reason);
      this.setState('closing');
    } else {
      conn?.transport?.terminate();
      this.conn = undefined;
      this.finishClosed(code, reason);
    }
    return closed;
  }

  /**
   * Subscribes to `channel`. The returned object delivers events until `unsubscribe()`,
   * across reconnects. Throws on an invalid channel name or a channel already subscribed.
   */
  subscribe<N extends EventMap = M>(channel: string, options: SubscribeOptions = {}): Subscription<N> {
    if (!isValidChannel(channel)) throw new TypeError(`Invalid channel name: ${JSON.stringify(channel)}`);
    if (options.since !== undefined && !isValidSeq(options.since)) throw new TypeError(`Invalid seq: ${options.since}`);
    if (this.commands.subscriptions.has(channel)) throw new Error(`Already subscribed to ${channel}; see client.subscription()`);
    const sub = new Subscription<N>(channel, options.since, this.commands);
    this.commands.add(sub as unknown as Subscription<EventMap>);
    return sub;
  }

  /** The live subscription of `channel`, if any. */
  subscription<N extends EventMap = M>(channel: string): Subscription<N> | undefined {
    return this.commands.subscriptions.get(channel) as unknown as Subscription<N> | undefined;
  }

  subscriptions(): Subscription<M>[] {
    return [...this.commands.subscriptions.values()] as unknown as Subscription<M>[];
  }

  /** Round trip of an application-level ping, in ms. */
  ping(): Promise<number> {
    if (!this.isOpen()) return Promise.reject(new HeraldError('transport', 'Not connected'));
    return this.commands.ping();
  }

  stats(): ClientStats {
    const subscriptions: Record<string, ChannelStats> = {};
    for (const [channel, sub] of this.commands.subscriptions) subscriptions[channel] = { ...sub.stats, state: sub.state, lastSeq: sub.lastSeq };
    return {
      state: this.currentState,
      connectionId: this.info?.connectionId,
      node: this.info?.node,
      ...this.counters,
      pendingCommands: this.commands.pending.size,
      queuedCommands: this.commands.queued,
      subscriptions,
    };
  }

  // ---- Connections ----------------------------------------------------------------

  private async attempt(): Promise<void> {
    const generation = ++this.generation;
    const { getToken } = this.options;
    if (getToken && (this.needToken || this.token === undefined)) {
      let token: string;
      try {
        token = await fetchToken(getToken);
      } catch (error) {
        if (generation !== this.generation) return;
        this.emitter.emit('error', error as HeraldError);
        this.scheduleReconnect(CloseCode.PolicyViolation, 'getToken() failed');
        return;
      }
      if (generation !== this.generation) return;
      this.token = token;
      this.needToken = false;
    }
    let url = this.nextUrl();
    if (typeof url !== 'string') {
      try {
        url = await url;
      } catch (cause) {
        if (generation !== this.generation) return;
        this.emitter.emit('error', new HeraldError('transport', `The url provider failed: ${messageOf(cause)}`, { cause }));
        if (generation === this.generation) this.scheduleReconnect(CloseCode.Abnormal, 'url provider failed');
        return;
      }
      if (generation !== this.generation) return;
    }
    this.lastUrl = url;
    const conn = new Connection(url);
    this.conn = conn;
    this.connectTimer.start(this.options.connectTimeout);
    let transport: Transport;
    try {
      transport = await this.transportFactory(
        { url, protocols: [this.codec.subprotocol], token: this.token },
        this.handlersFor(conn),
      );
    } catch (cause) {
      if (conn === this.conn) this.onTransportClose(conn, CloseCode.Abnormal, messageOf(cause), undefined);
      return;
    }
    if (conn !== this.conn) transport.terminate();
    else conn.transport = transport;
  }

  /**
   * The URL of the next attempt. A list: any node first (a fleet of clients spreads
   * evenly), then always one of the others, at random: a node that said 1001 (draining)
   * or refused the last attempt is not asked again at once, and the clients it sheds are
   * shared among the rest instead of all landing on its neighbour.
   */
  private nextUrl(): string | Promise<string> {
    const { url, random } = this.options;
    const previous = this.lastUrl;
    if (typeof url === 'function') {
      const request = { previous, code: this.lastCode, attempt: this.failures };
      return new Promise<string>((resolve) => resolve(url(request))).then(normaliseUrl);
    }
    if (url.length === 1) return url[0]!;
    const from = previous === undefined ? -1 : url.indexOf(previous);
    let index = Math.floor(random() * (from < 0 ? url.length : url.length - 1));
    if (from >= 0 && index >= from) index++;
    return url[index]!;
  }

  private handlersFor(conn: Connection): TransportHandlers {
    return {
      open: () => {
        conn.opened = true;
      },
      message: (data) => {
        if (conn !== this.conn || conn.closing) return;
        this.heartbeat.touch();
        let frame: unknown;
        try {
          frame = this.codec.decode(data);
        } catch (cause) {
          this.emitter.emit('error', new HeraldError('protocol', messageOf(cause), { cause }));
          return;
        }
        if (frame !== undefined) this.router.handle(frame);
      },
      activity: () => {
        if (conn === this.conn) this.heartbeat.touch();
      },
      close: (code, reason, httpStatus) => {
        if (conn === this.conn) this.onTransportClose(conn, code, reason || conn.lastError || '', httpStatus);
      },
      error: (error) => {
        conn.lastError = error.message;
      },
    };
  }

  private onConnected(data: Partial<ConnectedInfo>): void {
    const conn = this.conn;
    if (!conn || conn.connected) return;
    conn.connected = true;
    conn.connectedAt = this.options.timers.now();
    this.connectTimer.stop();
    const reconnected = this.counters.connects > 0;
    this.counters.connects++;
    if (reconnected) this.counters.reconnects++;
    const info: ConnectedInfo = {
      url: conn.url,
      connectionId: typeof data.connectionId === 'string' ? data.connectionId : '',
      node: typeof data.node === 'string' ? data.node : '',
      pingInterval: this.options.pingInterval ?? positiveOr(data.pingInterval, DEFAULT_PING_INTERVAL),
      readTimeout: this.options.readTimeout ?? positiveOr(data.readTimeout, DEFAULT_READ_TIMEOUT),
      reconnected,
      ...(typeof data.expiresAt === 'string' ? { expiresAt: data.expiresAt } : {}),
    };
    this.info = info;
    this.heartbeat.start(info.pingInterval, info.readTimeout, this.options.appPing);
    this.tokenRefresh.schedule(info.expiresAt);
    this.setState('open');
    if (this.conn !== conn) return; // a state listener closed the client
    this.commands.connectionOpened();
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const waiter of waiters) waiter.resolve(info);
    this.emitter.emit('connected', info);
  }

  private onTransportClose(conn: Connection, code: number, reason: string, httpStatus: number | undefined): void {
    this.conn = undefined;
    this.lastCode = code;
    this.teardown();
    if (conn.closing || this.currentState === 'closing') {
      this.finishClosed(code, reason);
      return;
    }
    if (conn.connected) {
      this.counters.disconnects++;
      if (this.options.timers.now() - conn.connectedAt >= this.options.backoff.resetAfter) this.failures = 0;
      // A draining node moving its clients is no failure, however soon after connecting
      // (a rolling restart can drain a node minutes after the last): the retry is spread
      // over the going-away window, not hurried by a short backoff window.
      if (code === CloseCode.GoingAway) this.failures = 0;
    }
    const tokenRefused = code === CloseCode.PolicyViolation || httpStatus === 401;
    const final = (code === CloseCode.Normal && httpStatus === undefined) || (tokenRefused && !this.options.getToken);
    if (tokenRefused) this.needToken = true;
    if (final) {
      const error = tokenRefused
        ? new HeraldError('auth', 'The server refused the token and there is no getToken() to renew it', { code, httpStatus })
        : undefined;
      this.finishClosed(code, reason, { code, reason, httpStatus, willReconnect: false }, error);
      return;
    }
    this.scheduleReconnect(code, reason, { code, reason, httpStatus, willReconnect: true });
  }

  private scheduleReconnect(code: number, reason: string, disconnect?: DisconnectInfo): void {
    const delay = reconnectDelay(this.options.backoff, this.failures, code, this.options.random);
    this.failures++;
    const attempt = this.failures;
    this.reconnectTimer.start(delay);
    this.setState('reconnecting');
    // Listeners may call close() or connect(): stop emitting once the state moved on.
    if (disconnect) this.emitter.emit('disconnected', disconnect);
    if (this.currentState === 'reconnecting') this.emitter.emit('reconnecting', { attempt, delay, code, reason });
  }

  /** Gives up on the current connection (dead link, timeout) and reconnects. */
  private abandon(code: number, reason: string): void {
    const conn = this.conn;
    if (!conn) return;
    conn.transport?.terminate();
    this.onTransportClose(conn, code, reason, undefined);
  }

  /** Stops everything tied to one connection. */
  private teardown(): void {
    this.connectTimer.stop();
    this.heartbeat.stop();
    this.tokenRefresh.stop();
    this.commands.connectionLost();
    this.info = undefined;
  }

  private finishClosed(code: number, reason: string, disconnect?: DisconnectInfo, error?: HeraldError): void {
    this.generation++;
    this.closeTimer.stop();
    this.reconnectTimer.stop();
    this.conn = undefined;
    this.teardown();
    this.setState('closed');
    const openWaiters = this.openWaiters;
    const closeWaiters = this.closeWaiters;
    this.openWaiters = [];
    this.closeWaiters = [];
    for (const waiter of openWaiters) waiter.reject(new HeraldError('transport', `Client closed (${code} ${reason})`, { code }));
    for (const resolve of closeWaiters) resolve();
    if (disconnect) this.emitter.emit('disconnected', disconnect);
    if (error) this.emitter.emit('error', error);
    this.emitter.emit('closed', { code, reason });
  }

  private setState(next: ClientState): void {
    const previous = this.currentState;
    if (previous === next) return;
    this.currentState = next;
    this.emitter.emit('state', next, previous);
  }

  private isOpen(): boolean {
    return this.currentState === 'open' && this.conn?.connected === true;
  }
}

function withExpiry(info: ConnectedInfo, expiresAt: string | undefined): ConnectedInfo {
  const { expiresAt: _old, ...rest } = info;
  return expiresAt === undefined ? rest : { ...rest, expiresAt };
}

function positiveOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && value > 0 ? value : fallback;
}
