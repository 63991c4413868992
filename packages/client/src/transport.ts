/**
 * The socket under the client, behind a small interface so the same state machine runs
 * on the browser's `WebSocket` and on Node's `ws` (and on a test double). A transport
 * reports what the client needs to decide how to reconnect: close code and reason, and
 * the HTTP status of a refused handshake where the platform shows it (browsers never
 * do: a 401 looks like a 1006 there).
 */

export interface TransportHandlers {
  /** The WebSocket handshake completed. */
  open(): void;
  /** One frame: a text frame as a string, a binary frame as bytes. */
  message(data: string | Uint8Array): void;
  /** A sign of life that is not a message (a protocol ping), where the platform shows it. */
  activity(): void;
  /** The connection ended (or never opened). Called at most once. */
  close(code: number, reason: string, httpStatus: number | undefined): void;
  /** Informational; `close` follows. */
  error(error: Error): void;
}

export interface Transport {
  /** A string goes as a text frame, bytes as a binary frame. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake; `close` is reported when it completes. */
  close(code: number, reason: string): void;
  /** Drops the connection at once; no handler is called afterwards. */
  terminate(): void;
}

export interface ConnectRequest {
  /** The endpoint, `ws(s)://host/v1/ws`, without the token. */
  url: string;
  protocols: string[];
  /** The bearer token, if any: the transport puts it where its platform can. */
  token: string | undefined;
}

export type TransportFactory = (request: ConnectRequest, handlers: TransportHandlers) => Transport | Promise<Transport>;

/** The part of the WHATWG `WebSocket` the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  /** Set to `arraybuffer` so binary frames (v1.protobuf) arrive as bytes, not Blobs. */
  binaryType?: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

const OPEN = 1;

/** The global `WebSocket` constructor, where the platform has one. */
export function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** Adds `?access_token=` (browsers cannot set headers on a WebSocket handshake). */
export function withQueryToken(url: string, token: string | undefined): string {
  if (token === undefined) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('access_token', token);
  return parsed.toString();
}

/**
 * A transport over a WHATWG-style `WebSocket` constructor (the browser's, Deno's,
 * Node 22's, or `ws` used through its browser-compatible API). The token travels in
 * the query string.
 */
export function nativeTransport(WebSocketImpl: WebSocketConstructor): TransportFactory {
  return (request, handlers) => {
    const socket = new WebSocketImpl(withQueryToken(request.url, request.token), request.protocols);
    socket.binaryType = 'arraybuffer';
    let done = false;
    const finish = (code: number, reason: string): void => {
      if (done) return;
      done = true;
      detach(socket);
      handlers.close(code, reason, undefined);
    };
    socket.onopen = () => handlers.open();
    socket.onmessage = (event) => {
      const bytes = typeof event.data === 'string' ? event.data : bytesOf(event.data);
      if (bytes !== undefined) handlers.message(bytes);
    };
    socket.onerror = () => handlers.error(new Error('WebSocket error'));
    socket.onclose = (event) => finish(event.code, event.reason);
    return {
      send(data) {
        if (socket.readyState === OPEN) socket.send(data);
      },
      close(code, reason) {
        try {
          socket.close(code, reason);
        } catch {
          // Browsers accept only 1000 and 3000-4999 from scripts; fall back to a bare close.
          socket.close();
        }
      },
      terminate() {
        done = true;
        detach(socket);
        // `ws` used through its WHATWG API can drop the TCP connection at once; a browser
        // socket cannot be destroyed, and closing it is the most the platform allows.
        const droppable = socket as WebSocketLike & { terminate?: () => void };
        try {
          if (typeof droppable.terminate === 'function') droppable.terminate();
          else socket.close();
        } catch {
          // already closed
        }
      },
    };
  };
}

/** A binary message as bytes: an ArrayBuffer (binaryType arraybuffer) or a view on one (`ws`'s Buffer). */
function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
}
