/**
 * One WebSocket connection: its identity, format, subscriptions, limits and timers'
 * state, in one object. The ws listeners are shared named functions that find the
 * session on the socket, so no closure is made per connection or per message.
 *
 * A session reaches only its host (SessionHost below): the outbox, its limits, and where
 * valid commands and its end are reported. It knows nothing of the hub or the server.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { Disconnect, Problem, type Command, type DisconnectLabel, type ProblemDefinition } from '@herald/protocol';
import type { Logger } from '@herald/runtime';
import type { Identity } from './auth.js';
import type { Outbox, OutboxQueue } from './outbox.js';
import type { Recipient } from './recipient.js';
import { CommandRateLimiter } from './rate-limiter.js';
import type { Subscription } from './subscription.js';
import type { WireFormat } from './wire-format.js';
import { acceptsSharedDeflate, rawSocket } from './ws-internals.js';

const kSession = Symbol('herald.session');
/** Ping slots are handed out in turn, so any number of connections spreads evenly. */
let nextPingSlot = 0;
/** Invalid messages in a row after which the connection is closed 1007. */
export const INVALID_STREAK_LIMIT = 10;

export interface SessionLimits {
  readonly maxCommandsPerSecond: number;
  /** INGEST_MAX_DEPTH: nesting allowed in a JSON command frame. */
  readonly maxJsonDepth: number;
}

/** Everything a session may reach, one object shared by every session of the node. */
export interface SessionHost {
  readonly outbox: Outbox<Session>;
  readonly limits: SessionLimits;
  readonly logger: Logger;
  /** A valid command, within the rate limit. */
  command(session: Session, command: Command): void;
  /** The WebSocket closed; called once. */
  closed(session: Session): void;
}

export class Session implements Recipient {
  readonly socket: Socket;
  /** This connection's queue in the outbox (the outbox owns what is in it). */
  readonly queue: OutboxQueue;
  /** Negotiated permessage-deflate so that frames compressed once per node fit it. */
  readonly deflate: boolean;
  readonly subscriptions = new Map<string, Subscription>();
  /** We started closing: nothing more is queued. */
  closing = false;
  closed = false;
  lastSeen: number;
  /** Since when the send buffer has been non-empty; 0 when drained. */
  stalledSince = 0;
  invalidStreak = 0;
  /** Which sweep of each ping interval pings this connection (see Sweeper). */
  readonly pingSlot: number;
  disconnectReason: DisconnectLabel = 'client';
  private readonly limiter: CommandRateLimiter;
  /** Per-channel command chains, so commands on one channel run in order. */
  private channelOps: Map<string, Promise<void>> | undefined;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    /** Replaced by a successful `refresh` (same `sub`): grants and expiry follow the new token. */
    public identity: Identity,
    /** The negotiated subprotocol: every frame both ways is in it. */
    readonly format: WireFormat,
    private readonly host: SessionHost,
  ) {
    this.socket = rawSocket(ws);
    this.queue = host.outbox.open(this.socket, this);
    this.deflate = acceptsSharedDeflate(ws);
    this.pingSlot = nextPingSlot;
    nextPingSlot = (nextPingSlot + 1) % 1_000_000;
    const now = Date.now();
    this.lastSeen = now;
    this.limiter = new CommandRateLimiter(host.limits.maxCommandsPerSecond, now);
    (ws as unknown as Record<symbol, Session>)[kSession] = this;
    ws.on('message', onWsMessage);
    ws.on('pong', onWsActivity);
    ws.on('ping', onWsActivity);
    ws.on('close', onWsClose);
    ws.on('error', onWsError);
  }

  /** Queues a complete frame (in this session's format) behind what is already queued. */
  enqueue(frame: Buffer): void {
    this.host.outbox.enqueue(this, frame);
  }

  sendError(problem: ProblemDefinition, message: string, replyTo?: string, channel?: string): void {
    this.enqueue(this.format.error(problem, message, replyTo, channel));
  }

  /**
   * Ends the session as the table of disconnects says: its error frame (if any) and close
   * frame after what is already queued; a disconnect without a close frame drops the
   * connection at once.
   */
  end(disconnect: Disconnect): void {
    if (disconnect.close === undefined) {
      this.terminate(disconnect);
      return;
    }
    if (this.closing || this.closed) return;
    if (disconnect.notice) this.sendError(disconnect.notice.problem, disconnect.notice.message);
    this.host.outbox.close(this);
    this.closing = true;
    this.disconnectReason = disconnect.label;
    this.ws.close(disconnect.close.code, disconnect.close.reason);
  }

  /** Drops the TCP connection at once (dead or stuck peers, the end of a drain). */
  terminate(disconnect: Disconnect): void {
    if (this.closed) return;
    this.host.outbox.discard(this);
    this.closing = true;
    this.disconnectReason = disconnect.label;
    this.ws.terminate();
  }

  /** Runs `operation` after the previous command on the same channel finished. */
  runInOrder(channel: string, operation: () => Promise<void>): void {
    const ops = (this.channelOps ??= new Map());
    const previous = ops.get(channel);
    const next = (previous ? previous.then(operation) : operation()).catch((error: unknown) => {
      this.host.logger.error({ err: error, connection: this.id, channel }, 'channel command failed');
    });
    ops.set(channel, next);
    void next.then(() => {
      if (ops.get(channel) === next) ops.delete(channel);
    });
  }

  handleMessage(data: Buffer, isBinary: boolean): void {
    this.lastSeen = Date.now();
    if (this.closing) return;
    // Each subprotocol has one kind of frame (PROTOCOL.md sections 3 and 9): the other closes 1003.
    if (isBinary !== this.format.binary) {
      if (isBinary) this.end(Disconnect.binaryFrame);
      else this.end(Disconnect.textFrame);
      return;
    }
    const { limits } = this.host;
    const decoded = this.format.decode(data, limits.maxJsonDepth);
    const rate = this.limiter.take(this.lastSeen);
    if (rate !== 'allow') {
      const replyTo = decoded.ok ? decoded.command.id : decoded.replyTo;
      this.sendError(Problem.rateLimited, `Over ${limits.maxCommandsPerSecond} commands per second`, replyTo);
      if (rate === 'abuse') this.end(Disconnect.rateAbuse);
      return;
    }
    if (!decoded.ok) {
      this.sendError(decoded.problem, decoded.message, decoded.replyTo);
      if (decoded.problem === Problem.invalidMessage) {
        this.invalidStreak += 1;
        if (this.invalidStreak >= INVALID_STREAK_LIMIT) {
          this.end(Disconnect.invalidStreak);
        }
      }
      return;
    }
    this.invalidStreak = 0;
    this.host.command(this, decoded.command);
  }

  /** Called once when the WebSocket has closed, whoever closed it. */
  handleClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.host.outbox.discard(this);
    this.host.closed(this);
  }

  /** For ws's error events: the close handler does the cleanup. */
  logError(error: Error): void {
    this.host.logger.debug({ err: error, connection: this.id }, 'websocket error');
  }
}

export function sessionOf(ws: WebSocket): Session | undefined {
  return (ws as unknown as Record<symbol, Session | undefined>)[kSession];
}

function onWsMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  sessionOf(this)?.handleMessage(data, isBinary);
}

function onWsActivity(this: WebSocket): void {
  const session = sessionOf(this);
  if (session) session.lastSeen = Date.now();
}

function onWsClose(this: WebSocket): void {
  sessionOf(this)?.handleClosed();
}

function onWsError(this: WebSocket, error: Error): void {
  // ws closes the connection itself (1002, 1007, 1009...); the close handler cleans up.
  sessionOf(this)?.logError(error);
}
