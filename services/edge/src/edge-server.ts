/**
 * The edge node: accepts WebSocket upgrades on /v1/ws (handshake checks, then
 * admission), runs sessions, and drains on shutdown. Talks to the cluster only
 * through a Broker, an Admission and the Revocations; it never knows which engines they are.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Admission, AdmissionResult, Revocations } from '@herald/admission';
import type { Broker } from '@herald/broker';
import { Disconnect, Problem, WEBSOCKET_PATH } from '@herald/protocol';
import { refuseRaw, sendProblem, type Health, type Logger, type Registry } from '@herald/runtime';
import { TokenVerifier, type Identity } from './auth.js';
import { CommandRouter } from './commands.js';
import { ConsoleRoutes } from './console/console-routes.js';
import { spreadOver } from './drain.js';
import { EdgeMetrics } from './edge-metrics.js';
import { checkHandshake } from './handshake.js';
import { HandshakeLimit } from './handshake-limit.js';
import { Hub } from './hub.js';
import type { EdgeOptions } from './options.js';
import { Outbox } from './outbox.js';
import { Rebalancer } from './rebalance.js';
import { TokenRefresher, expiresAtIso } from './refresh.js';
import { RevocationEnforcer } from './revocation-enforcer.js';
import { RevocationGate } from './revocation-gate.js';
import { Session, type SessionHost } from './session.js';
import { negotiateFormat } from './subprotocols.js';
import { StatsPublisher } from './stats/stats-publisher.js';
import { Sweeper } from './sweeper.js';
import type { WireFormat } from './wire-format.js';
import { rawSocket } from './ws-internals.js';

export interface EdgeDependencies {
  options: EdgeOptions;
  broker: Broker;
  admission: Admission;
  /** PROTOCOL.md section 11: checked at the handshake and on refresh, heard to close revoked sessions. */
  revocations: Revocations;
  logger: Logger;
  registry: Registry;
  health: Health;
}

/** How long closing clients get to answer the close handshake before being cut. */
const CLOSE_GRACE_MS = 2_000;

export class EdgeServer {
  readonly options: EdgeOptions;
  readonly broker: Broker;
  readonly logger: Logger;
  readonly metrics: EdgeMetrics;
  readonly outbox: Outbox<Session>;
  readonly hub: Hub;
  readonly sessions = new Set<Session>();
  /** What every session may reach: the outbox, its limits, and where it reports. */
  private readonly sessionHost: SessionHost;
  private readonly commands: CommandRouter;
  private readonly admission: Admission;
  private readonly verifier: TokenVerifier;
  private readonly revocations: Revocations;
  private readonly revocationGate: RevocationGate;
  private readonly revoker: RevocationEnforcer;
  private readonly wss: WebSocketServer;
  private readonly sweeper: Sweeper;
  private readonly handshakeLimit: HandshakeLimit | undefined;
  /** CONSOLE_ENABLED: the page at /console, and this node's stats on `_herald:stats`. */
  private readonly console: ConsoleRoutes | undefined;
  private readonly stats: StatsPublisher | undefined;
  /** REBALANCE_THRESHOLD: sheds connections when this node is well above the cluster average. */
  private readonly rebalancer: Rebalancer<Session> | undefined;
  private draining = false;
  private emptyWaiters: Array<() => void> = [];

  constructor(deps: EdgeDependencies) {
    this.options = deps.options;
    this.broker = deps.broker;
    this.admission = deps.admission;
    this.logger = deps.logger.child({ service: 'edge' });
    this.verifier = new TokenVerifier(deps.options.jwt);
    this.metrics = new EdgeMetrics(deps.registry, {
      connections: () => this.sessions.size,
      subscriptions: () => this.hub.subscriptionCount,
      channels: () => this.hub.channelCount,
      brokerUp: () => this.broker.state === 'ready' && this.hub.notReadyReason() === undefined,
      connectionsByFormat: () => this.connectionsByFormat(),
      framesMade: () => this.hub.framesMade,
    });
    this.outbox = new Outbox<Session>(deps.options.maxBufferedBytes, (session) => this.onSlowConsumer(session));
    this.hub = new Hub(
      deps.broker,
      this.outbox,
      this.metrics,
      this.logger,
      deps.options.compression ? deps.options.compressionThreshold : Number.POSITIVE_INFINITY,
    );
    this.revocations = deps.revocations;
    this.revocationGate = new RevocationGate(deps.revocations, this.logger, deps.registry);
    this.revoker = new RevocationEnforcer(deps.revocations, this.revocationGate, this.logger);
    this.commands = new CommandRouter(this.hub, deps.options, this.metrics, this.logger, new TokenRefresher(this.verifier, this.revocationGate, this.hub));
    this.sessionHost = {
      outbox: this.outbox,
      limits: { maxCommandsPerSecond: deps.options.maxCommandsPerSecond, maxJsonDepth: deps.options.maxJsonDepth },
      logger: this.logger,
      command: (session, command) => this.commands.dispatch(session, command),
      closed: (session) => this.onSessionClosed(session),
    };
    this.handshakeLimit = HandshakeLimit.fromOptions(deps.options);
    this.sweeper = new Sweeper(this.sessions, this.outbox, deps.options);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: deps.options.maxMessageSize,
      // Negotiated only; ws never compresses our events (they are written pre-framed,
      // compressed once per node, see compression.ts). No context is kept on our side,
      // and clients are asked to keep none for their (small) commands either.
      perMessageDeflate: deps.options.compression
        ? { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: Number.POSITIVE_INFINITY }
        : false,
      // The same choice checkHandshake made (it refused the rest): the first offered
      // protocol this server speaks. ws passes them in the client's order.
      handleProtocols: (protocols) => negotiateFormat(protocols)?.subprotocol ?? false,
    });
    // checkHandshake refuses what ws would; should ws still find fault (an extensions
    // header it cannot parse), it reports here instead of answering on its own.
    this.wss.on('wsClientError', (error: Error, socket: Duplex) => {
      this.metrics.handshakeRefusedInc('invalid-request');
      refuseRaw(socket, Problem.invalidRequest, `Invalid WebSocket handshake: ${error.message}`);
    });
    if (deps.options.console?.enabled === true) {
      this.console = new ConsoleRoutes({ ingestUrl: deps.options.console.ingestUrl });
      const metrics = this.metrics;
      this.stats = new StatsPublisher(
        deps.options.nodeId,
        deps.broker,
        {
          connections: () => this.sessions.size,
          subscriptions: () => this.hub.subscriptionCount,
          channels: () => this.hub.channelCount,
          eventsIn: () => metrics.publications,
          deliveries: () => metrics.deliveries,
          slowConsumerCloses: () => metrics.slowConsumerCloses,
          brokerUp: () => this.broker.state === 'ready' && this.hub.notReadyReason() === undefined,
          draining: () => this.draining,
        },
        metrics.recentLag,
        this.logger,
      );
    }
    const threshold = deps.options.rebalanceThreshold;
    if (threshold !== undefined && threshold !== null) {
      this.rebalancer = new Rebalancer<Session>(
        {
          nodeId: deps.options.nodeId,
          admission: deps.admission,
          sessions: this.sessions,
          shed: (session) => session.end(Disconnect.rebalance),
          logger: this.logger,
          registry: deps.registry,
        },
        threshold,
      );
    }
    deps.health.addCheck(() => (this.broker.state === 'ready' ? undefined : `broker ${this.broker.state}`));
    deps.health.addCheck(() => this.hub.notReadyReason());
    deps.health.addCheck(() => this.admission.degradedReason());
  }

  async start(): Promise<void> {
    await this.admission.start();
    await this.revocations.listen(this.revoker);
    await this.broker.start(this.hub);
    this.sweeper.start();
    this.stats?.start();
    this.rebalancer?.start();
  }

  /** Plain HTTP requests to the WebSocket path and, when enabled, the console; false for other paths. */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (this.console?.handle(req, res, path) === true) return true;
    if (path !== WEBSOCKET_PATH) return false;
    sendProblem(res, Problem.upgradeRequired, `${WEBSOCKET_PATH} accepts WebSocket upgrades only`, undefined, { upgrade: 'websocket' });
    return true;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignoreSocketError);
    if (this.draining) {
      this.metrics.handshakeRefusedInc('draining');
      refuseRaw(socket, Problem.notReady, 'This node is draining for shutdown; connect to another node');
      return;
    }
    // Before the token is verified or admission asked: a refused burst costs a map lookup.
    const limited = this.handshakeLimit?.check(req, Date.now());
    if (limited !== undefined && !limited.allowed) {
      this.metrics.handshakeRefusedInc('rate-limited');
      refuseRaw(socket, Problem.rateLimited, limited.detail, { 'Retry-After': String(limited.retryAfterSeconds) });
      return;
    }
    const result = checkHandshake(req, this.options, this.verifier);
    if (!result.ok) {
      this.metrics.handshakeRefusedInc(result.problem.type.slice('/problems/'.length));
      refuseRaw(socket, result.problem, result.detail, result.headers);
      return;
    }
    const { identity, format } = result;
    // Admission is asked before the upgrade completes (the 101 waits for it), so that the
    // 101 and the first frame (`connected`, or the refusal) leave in one write: one
    // syscall and one wake-up of the client per connection instead of two.
    // bench: connect. Frames the client sends early wait in the socket meanwhile.
    // The revocation check (one store lookup) runs alongside, not after.
    const decided = this.admission.acquire(identity.user).catch((error: unknown) => {
      this.logger.error({ err: error }, 'admission failed');
      return undefined;
    });
    void Promise.all([decided, this.revocationGate.allows(identity)]).then(([decision, allowed]) => {
      if (allowed) {
        this.completeUpgrade(req, socket, head, identity, format, decision);
        return;
      }
      if (decision?.admitted === true) this.admission.release(identity.user);
      this.refuseRevoked(socket);
    });
  }

  /**
   * Completes the upgrade once admission answered (`undefined`: it failed): the 101 and
   * the first frames are written with the socket corked, so they go out together.
   */
  private completeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, identity: Identity, format: WireFormat, decision: AdmissionResult | undefined): void {
    const admitted = decision?.admitted === true;
    if (this.draining) {
      if (admitted) this.admission.release(identity.user);
      this.metrics.handshakeRefusedInc('draining');
      refuseRaw(socket, Problem.notReady, 'This node is draining for shutdown; connect to another node');
      return;
    }
    // An announcement heard while the checks ran: the token may be revoked by now.
    if (this.revocationGate.refusedLocally(identity)) {
      if (admitted) this.admission.release(identity.user);
      this.refuseRevoked(socket);
      return;
    }
    let opened = false;
    socket.cork();
    try {
      // ws calls back synchronously, or not at all when it refuses the request itself
      // (a bad WebSocket header) or the client has gone meanwhile.
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        opened = true;
        this.open(ws, identity, format, decision);
      });
    } finally {
      socket.uncork();
    }
    if (!opened && admitted) this.admission.release(identity.user);
  }

  /**
   * The WebSocket is open: start the session in its negotiated format, or refuse it
   * with 1013 (1011 when admission failed).
   */
  private open(ws: WebSocket, identity: Identity, format: WireFormat, decision: AdmissionResult | undefined): void {
    if (decision === undefined) {
      ws.close(Disconnect.internal.close.code, Disconnect.internal.close.reason);
      return;
    }
    if (!decision.admitted) {
      this.metrics.admissionRefusedInc(decision.reason);
      // A complete frame in the session's format, ahead of ws's close frame on the same socket.
      const refused = Disconnect.admissionRefused;
      rawSocket(ws).write(format.error(refused.notice!.problem, refused.notice!.message));
      ws.close(refused.close.code, refused.close.reason);
      return;
    }
    const session = new Session(randomUUID(), ws, identity, format, this.sessionHost);
    this.sessions.add(session);
    this.revoker.add(session);
    const expiresAt = expiresAtIso(identity);
    // Written at once rather than queued in the outbox: nothing is queued before it, and
    // the socket is corked, so it joins the 101 in the same write.
    session.socket.write(
      format.connected(randomUUID(), {
        connectionId: session.id,
        node: this.options.nodeId,
        pingInterval: this.options.pingIntervalMs,
        readTimeout: this.options.readTimeoutMs,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      }),
    );
  }

  private refuseRevoked(socket: Duplex): void {
    this.metrics.handshakeRefusedInc('unauthorized');
    refuseRaw(socket, Problem.unauthorized, 'Invalid token: token revoked');
  }

  private connectionsByFormat(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const session of this.sessions) counts[session.format.subprotocol] = (counts[session.format.subprotocol] ?? 0) + 1;
    return counts;
  }

  private onSessionClosed(session: Session): void {
    this.sessions.delete(session);
    this.revoker.remove(session);
    for (const subscription of session.subscriptions.values()) this.hub.leave(session, subscription);
    session.subscriptions.clear();
    this.admission.release(session.identity.user);
    this.metrics.disconnect(session.disconnectReason);
    if (this.sessions.size === 0 && this.emptyWaiters.length > 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private onSlowConsumer(session: Session): void {
    this.logger.info({ connection: session.id, buffered: session.socket.writableLength }, 'closing slow consumer');
    session.end(Disconnect.slowConsumer);
  }

  /**
   * Shutdown, part 1: refuse new upgrades, close every connection with 1001 spread
   * over `periodMs`, and wait (briefly) for the close handshakes.
   */
  async drain(periodMs: number): Promise<void> {
    this.draining = true;
    this.rebalancer?.stop();
    const count = this.sessions.size;
    const endsAt = Date.now() + periodMs;
    this.logger.info({ connections: count, periodMs }, 'draining connections');
    await spreadOver([...this.sessions], periodMs, (session) => session.end(Disconnect.drain));
    if (this.sessions.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_GRACE_MS);
        timer.unref();
        this.emptyWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const session of [...this.sessions]) session.terminate(Disconnect.drainOver);
    // A node that had clients stays up (readiness 503, upgrades refused) until the period
    // ends, even when they left early: those reconnecting meet a refusal, not a dead port.
    const remainingMs = endsAt - Date.now();
    if (count > 0 && remainingMs > 0) await new Promise((resolve) => setTimeout(resolve, remainingMs));
    this.logger.info({ connections: count }, 'drained');
  }

  /** Shutdown, part 2: stop timers, release the admission share, leave the broker. */
  async stop(): Promise<void> {
    this.draining = true;
    this.rebalancer?.stop();
    this.sweeper.stop();
    this.stats?.stop();
    for (const session of [...this.sessions]) session.terminate(Disconnect.drainOver);
    await this.revocations.stop();
    await this.admission.stop();
    await this.broker.stop();
  }
}

function ignoreSocketError(): void {
  // A client that resets the connection mid-handshake is not an error of ours.
}
