/**
 * A WebSocket test client over `ws` that records every frame and lets a test await
 * frames by predicate, replies by command id, and the close code, without sleeping.
 *
 * With `codec: 'protobuf'` it speaks `v1.protobuf` (PROTOCOL.md section 9): commands
 * go out as binary ClientCommand frames, and binary frames are recorded as their JSON
 * twins (decodeServerMessage), so the same assertions read both formats. `raw` keeps
 * every frame's bytes as received.
 */
import WebSocket, { type ClientOptions } from 'ws';
import { decodeServerMessage, encodeClientCommand, type ClientCommandInput } from '@herald/protocol/protobuf';

export type Frame = Record<string, any>;

export interface ConnectOptions {
  token?: string;
  /** Send the token as ?access_token= instead of the Authorization header. */
  tokenInQuery?: boolean;
  protocols?: string | string[];
  headers?: Record<string, string>;
  /** Extra ws client options. */
  ws?: ClientOptions;
  /** How commands are sent and binary frames read; default 'json'. */
  codec?: 'json' | 'protobuf';
}

export interface HandshakeFailure {
  status: number;
  contentType: string | undefined;
  body: any;
}

let commandCounter = 0;

export class TestClient {
  readonly frames: Frame[] = [];
  /** Every frame's payload as received, in the order of `frames`, with its kind. */
  readonly raw: Array<{ binary: boolean; bytes: Buffer }> = [];
  /** Arrival times (Date.now()) of the protocol pings the server sent. */
  readonly pings: number[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private pingWaiters: Array<() => void> = [];
  private waiters: Array<{ predicate: (frame: Frame) => boolean; resolve: (frame: Frame) => void; from: number }> = [];
  private cursor = 0;

  private constructor(
    readonly socket: WebSocket,
    readonly codec: 'json' | 'protobuf' = 'json',
  ) {
    socket.on('ping', () => {
      this.pings.push(Date.now());
      const waiters = this.pingWaiters;
      this.pingWaiters = [];
      for (const resolve of waiters) resolve();
    });
    socket.on('message', (data, isBinary) => {
      const bytes = data as Buffer;
      this.raw.push({ binary: isBinary, bytes });
      const frame = isBinary ? (codec === 'protobuf' ? decodeBinary(bytes) : { binary: data }) : parseFrame(data.toString());
      this.frames.push(frame);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.predicate(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a connection; rejects with a HandshakeFailure when the server answers HTTP. */
  static connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const target = options.token && options.tokenInQuery ? `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(options.token)}` : url;
    const headers: Record<string, string> = { ...options.headers };
    if (options.token && !options.tokenInQuery) headers.authorization = `Bearer ${options.token}`;
    const socket = new WebSocket(target, options.protocols ?? [], { headers, ...options.ws });
    const client = new TestClient(socket, options.codec);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          let parsed: unknown = body;
          try {
            parsed = JSON.parse(body);
          } catch {
            // leave as text
          }
          reject({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body: parsed } satisfies HandshakeFailure);
        });
      });
      socket.once('error', (error) => reject(error));
    });
  }

  /** Connects and waits for the `connected` frame. */
  static async open(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const client = await TestClient.connect(url, options);
    await client.next((frame) => frame.type === 'connected');
    return client;
  }

  /** A string goes as a text frame; an object as JSON text, or as a binary ClientCommand with the protobuf codec. */
  send(message: unknown): void {
    if (typeof message === 'string') this.socket.send(message);
    else if (this.codec === 'protobuf') this.socket.send(encodeClientCommand(message as ClientCommandInput), { binary: true });
    else this.socket.send(JSON.stringify(message));
  }

  /** Sends bytes as they are, in a text frame (default) or a binary frame; no UTF-8 check. */
  sendRaw(bytes: Buffer, options: { binary?: boolean } = {}): void {
    this.socket.send(bytes, { binary: options.binary ?? false });
  }

  /** Resolves when the server has sent `count` protocol pings in all. */
  async waitForPings(count: number, timeoutMs = 5_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.pings.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`got ${this.pings.length} of ${count} pings within ${timeoutMs}ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.pingWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.pings;
  }

  /** Error frames received so far, optionally of one problem type. */
  errors(problemType?: string): Frame[] {
    return this.frames.filter((frame) => frame.type === 'error' && (problemType === undefined || frame.error?.type === problemType));
  }

  /**
   * A barrier: sends a ping command and waits for its pong. Every frame the server
   * queued for this connection before it read the ping has arrived by then.
   */
  async sync(timeoutMs = 5_000): Promise<void> {
    const pong = await this.request('ping', undefined, timeoutMs);
    if (pong.type !== 'pong') throw new Error(`expected a pong, got ${JSON.stringify(pong)}`);
  }

  /** The next frame (after those already consumed by next()) matching the predicate. */
  next(predicate: (frame: Frame) => boolean = () => true, timeoutMs = 5_000): Promise<Frame> {
    for (let i = this.cursor; i < this.frames.length; i++) {
      if (predicate(this.frames[i]!)) {
        this.cursor = i + 1;
        return Promise.resolve(this.frames[i]!);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs}ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const waiter = {
        predicate,
        from: this.frames.length,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          this.cursor = this.frames.length;
          resolve(frame);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends a command with a fresh id and resolves with the frame that replies to it. */
  async request(type: string, data?: unknown, timeoutMs = 5_000): Promise<Frame> {
    const id = `c${++commandCounter}`;
    const reply = this.next((frame) => frame.replyTo === id, timeoutMs);
    this.send(data === undefined ? { type, id } : { type, id, data });
    return reply;
  }

  subscribe(channel: string, since?: string): Promise<Frame> {
    return this.request('subscribe', since === undefined ? { channel } : { channel, since });
  }

  /** Events (frames with a seq) received so far, optionally of one channel. */
  events(channel?: string): Frame[] {
    return this.frames.filter((frame) => typeof frame.seq === 'string' && (channel === undefined || frame.channel === channel));
  }

  /** Resolves once `count` events (of `channel`) have arrived. */
  async waitForEvents(count: number, channel?: string, timeoutMs = 10_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events(channel).length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`got ${this.events(channel).length} of ${count} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push({ predicate: (f) => typeof f.seq === 'string', from: 0, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    }
    return this.events(channel);
  }

  close(code?: number): Promise<{ code: number; reason: string }> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(code);
    return this.closed;
  }
}

/** A binary frame as its JSON twin; bytes that do not decode are recorded as such. */
function decodeBinary(bytes: Buffer): Frame {
  try {
    return (decodeServerMessage(bytes) as Frame | undefined) ?? { unknownBinary: bytes };
  } catch (error) {
    return { undecodable: bytes, error: (error as Error).message };
  }
}

function parseFrame(text: string): Frame {
  try {
    return JSON.parse(text) as Frame;
  } catch {
    return { unparsed: text };
  }
}

/** Expects the handshake to be refused over HTTP; resolves with status and problem. */
export async function refusedHandshake(url: string, options: ConnectOptions = {}): Promise<HandshakeFailure> {
  try {
    const client = await TestClient.connect(url, options);
    await client.close();
  } catch (failure) {
    if ((failure as HandshakeFailure).status !== undefined) return failure as HandshakeFailure;
    throw failure;
  }
  throw new Error('the handshake was expected to be refused but the WebSocket opened');
}
