/**
 * A small scripted Herald server for the SDK's unit tests: real sockets (ws's
 * WebSocketServer on port 0), frames as PROTOCOL.md spells them, and every step
 * awaitable so tests never sleep. By default each connection gets a `connected` frame
 * and its commands are answered; tests switch that off per connection to script
 * failures (silence, refusals, close codes).
 *
 * It speaks the subprotocol the client offers first, `v1.json` or `v1.protobuf`; tests
 * script frames in their JSON shape either way (the protobuf twin is encoded here).
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ConnectedFrame, ErrorFrame, ProblemDefinition, RefreshedFrame, ServerFrame, SubscribedFrame, UnsubscribedFrame } from '@herald/protocol';
import {
  decodeClientCommand,
  encodeConnectedMessage,
  encodeErrorMessage,
  encodeEventMessage,
  encodePongMessage,
  encodeRefreshedMessage,
  encodeSubscribedMessage,
  encodeUnsubscribedMessage,
  type EventEnvelope,
} from '@herald/protocol/protobuf';

const SUBPROTOCOLS = ['v1.json', 'v1.protobuf'];

export interface ServerCommand {
  type: string;
  id?: string;
  data?: { channel: string; since?: string; token?: string };
}

export interface ScriptedServerOptions {
  /** Refuse the handshake with HTTP 401 unless this returns true (the token from header or query). */
  authorize?: (token: string | undefined) => boolean;
  /** Sent in the `connected` frame. */
  pingInterval?: number;
  readTimeout?: number;
  /** Sent as `connected.data.expiresAt` (ISO 8601), and answered to `refresh` with the token's expiry. */
  expiresAt?: (token: string | undefined) => string | undefined;
}

/** A FIFO of values with awaitable takes, optionally filtered. */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    const index = this.waiters.findIndex((waiter) => waiter.match(item));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter?.resolve(item);
      return;
    }
    this.items.push(item);
  }

  take(match: (item: T) => boolean = () => true): Promise<T> {
    const index = this.items.findIndex(match);
    if (index >= 0) return Promise.resolve(this.items.splice(index, 1)[0] as T);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

export class ServerConnection {
  /** Send `connected` on arrival, answer subscribe/unsubscribe/ping. */
  autoReply = true;
  /** Answer nothing at all (a frozen server whose TCP connection stays up). */
  silent = false;
  readonly commands: ServerCommand[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The negotiated subprotocol's format. */
  readonly format: 'json' | 'protobuf';
  /** Frames of the other kind than the format's (a JSON server got binary, or the reverse). */
  readonly wrongKind: Buffer[] = [];
  private readonly inbox = new Inbox<ServerCommand>();

  constructor(
    readonly ws: WebSocket,
    readonly request: IncomingMessage,
    private readonly options: ScriptedServerOptions,
    readonly index: number,
  ) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.format = ws.protocol === 'v1.protobuf' ? 'protobuf' : 'json';
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary !== (this.format === 'protobuf')) {
        this.wrongKind.push(data);
        return;
      }
      const command = this.format === 'protobuf' ? commandOf(data) : (JSON.parse(data.toString()) as ServerCommand);
      this.commands.push(command);
      if (this.autoReply && !this.silent) this.answer(command);
      this.inbox.push(command);
    });
  }

  /** The token the client presented (header or query). */
  get token(): string | undefined {
    return tokenOf(this.request);
  }

  /** Resolves with the next command (of `type`, when given) not taken yet. */
  next(type?: string): Promise<ServerCommand> {
    return this.inbox.take((command) => type === undefined || command.type === type);
  }

  /** A frame in its JSON shape; sent as the protobuf twin on v1.protobuf. */
  send(frame: object): void {
    if (this.silent) return;
    if (this.format === 'protobuf') this.ws.send(protobufOf(frame as ScriptedFrame), { binary: true });
    else this.ws.send(JSON.stringify(frame));
  }

  /** Bytes or text as they are (malformed frames). */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data, { binary: typeof data !== 'string' });
  }

  sendConnected(): void {
    this.send({
      type: 'connected',
      id: `srv_${this.index}`,
      timestamp: new Date().toISOString(),
      data: {
        connectionId: `conn_${this.index}`,
        node: 'node_test',
        pingInterval: this.options.pingInterval ?? 30_000,
        readTimeout: this.options.readTimeout ?? 60_000,
        ...expiryOf(this.options.expiresAt?.(this.token)),
      },
    });
  }

  subscribed(command: ServerCommand, recovered = command.data?.since !== undefined, missed = 0): void {
    this.send({ type: 'subscribed', replyTo: command.id, timestamp: new Date().toISOString(), data: { channel: command.data?.channel, recovered, missed } });
  }

  event(channel: string, seq: string, type: string, data: object, id = `evt_${seq}`): void {
    this.send({ type, id, timestamp: new Date().toISOString(), channel, seq, data });
  }

  refreshed(command: ServerCommand, expiresAt: string | undefined): void {
    this.send({ type: 'refreshed', replyTo: command.id, timestamp: new Date().toISOString(), data: expiryOf(expiresAt) });
  }

  /** The server drops a channel on its own (`reason` forbidden: a refresh narrowed the grants). */
  unsubscribed(channel: string, reason: string): void {
    this.send({ type: 'unsubscribed', timestamp: new Date().toISOString(), data: { channel, reason } });
  }

  error(problem: string, message: string, extra: { replyTo?: string; channel?: string } = {}): void {
    this.send({ type: 'error', ...extra, error: { type: `/problems/${problem}`, message }, timestamp: new Date().toISOString() });
  }

  close(code: number, reason = ''): Promise<{ code: number; reason: string }> {
    this.ws.close(code, reason);
    return this.closed;
  }

  private answer(command: ServerCommand): void {
    const timestamp = new Date().toISOString();
    switch (command.type) {
      case 'subscribe':
        this.subscribed(command);
        return;
      case 'unsubscribe':
        this.send({ type: 'unsubscribed', replyTo: command.id, timestamp, data: { channel: command.data?.channel } });
        return;
      case 'ping':
        this.send({ type: 'pong', replyTo: command.id, timestamp });
        return;
      case 'refresh':
        this.refreshed(command, this.options.expiresAt?.(command.data?.token));
        return;
    }
  }
}

export class ScriptedServer {
  readonly url: string;
  /** Runs first for each new connection (before any automatic frame): script it here. */
  script: ((connection: ServerConnection) => void) | undefined = undefined;
  private readonly connectionsInbox = new Inbox<ServerConnection>();
  private count = 0;

  private constructor(
    readonly wss: WebSocketServer,
    readonly options: ScriptedServerOptions,
  ) {
    const { port } = wss.address() as AddressInfo;
    this.url = `ws://127.0.0.1:${port}/v1/ws`;
    wss.on('connection', (ws, request) => {
      const connection = new ServerConnection(ws, request, options, ++this.count);
      this.script?.(connection);
      if (connection.autoReply) connection.sendConnected();
      this.connectionsInbox.push(connection);
    });
  }

  static start(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        path: '/v1/ws',
        handleProtocols: (protocols) => [...protocols].find((protocol) => SUBPROTOCOLS.includes(protocol)) ?? false,
        verifyClient: options.authorize
          ? (info, callback) => {
              if (options.authorize?.(tokenOf(info.req))) callback(true);
              else callback(false, 401, 'Unauthorized');
            }
          : undefined,
      });
      wss.once('error', reject);
      wss.once('listening', () => resolve(new ScriptedServer(wss, options)));
    });
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.count;
  }

  /** The next accepted connection not taken yet. */
  nextConnection(): Promise<ServerConnection> {
    return this.connectionsInbox.take();
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** A ClientCommand as the JSON command it means (a malformed one is recorded as `invalid`). */
function commandOf(bytes: Buffer): ServerCommand {
  const decoded = decodeClientCommand(bytes);
  return decoded.ok ? (decoded.command as ServerCommand) : { type: 'invalid', id: decoded.replyTo };
}

/** A server frame as tests script it (PROTOCOL.md section 3): the fields the encoders read. */
type ScriptedFrame = ServerFrame & { replyTo?: string; channel?: string };

/** The protobuf twin of a frame scripted in its JSON shape. */
function protobufOf(frame: ScriptedFrame): Uint8Array {
  switch (frame.type) {
    case 'connected':
      return encodeConnectedMessage((frame as ConnectedFrame).id, (frame as ConnectedFrame).data);
    case 'subscribed':
      return encodeSubscribedMessage(frame.replyTo, (frame as SubscribedFrame).data);
    case 'unsubscribed':
      return encodeUnsubscribedMessage(frame.replyTo, (frame as UnsubscribedFrame).data.channel, (frame as UnsubscribedFrame).data.reason);
    case 'refreshed':
      return encodeRefreshedMessage(frame.replyTo, (frame as RefreshedFrame).data.expiresAt);
    case 'pong':
      return encodePongMessage(frame.replyTo);
    case 'error': {
      const { error } = frame as ErrorFrame;
      return encodeErrorMessage({ type: error.type } as ProblemDefinition, error.message, frame.replyTo, frame.channel);
    }
    default:
      return encodeEventMessage(frame as EventEnvelope);
  }
}

function expiryOf(expiresAt: string | undefined): { expiresAt?: string } {
  return expiresAt === undefined ? {} : { expiresAt };
}

function tokenOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);
  const query = new URL(request.url ?? '/', 'http://localhost').searchParams.get('access_token');
  return query ?? undefined;
}
