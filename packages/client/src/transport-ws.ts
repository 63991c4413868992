/**
 * The Node transport over `ws`, loaded with a dynamic import the first time a client
 * connects, so that a browser bundle of the SDK never contains it. The token travels in
 * the `Authorization` header, and a refused handshake reports its HTTP status (so a 401
 * can trigger `getToken()` at once).
 */
import type { Agent } from 'node:http';
import type { WebSocket as WsWebSocket } from 'ws';
import type { TransportFactory } from './transport.js';

interface WsModule {
  WebSocket: typeof WsWebSocket;
}

let wsModule: Promise<WsModule> | undefined;

function loadWs(): Promise<WsModule> {
  wsModule ??= import('ws');
  return wsModule;
}

export interface WsTransportOptions {
  /** Extra handshake headers (the token's `Authorization` header is added when there is a token). */
  headers?: Record<string, string>;
  /** Per-message deflate; off by default (small frames gain little, cost CPU). */
  perMessageDeflate?: boolean;
  /**
   * The `http.Agent` (or `https.Agent`) that opens the TCP connection: an HTTP(S) proxy
   * agent, custom TLS settings, or an agent whose `createConnection` keeps the socket
   * (load tests that cut links abruptly do this).
   */
  agent?: Agent;
}

export function wsTransport(options: WsTransportOptions = {}): TransportFactory {
  return async (request, handlers) => {
    const { WebSocket } = await loadWs();
    const headers: Record<string, string> = { ...options.headers };
    if (request.token !== undefined) headers.Authorization = `Bearer ${request.token}`;
    const socket = new WebSocket(request.url, request.protocols, {
      headers,
      perMessageDeflate: options.perMessageDeflate ?? false,
      ...(options.agent ? { agent: options.agent } : {}),
    });
    let httpStatus: number | undefined;
    let done = false;
    socket.on('unexpected-response', (_request, response) => {
      // Handled here instead of ws's generic error so the status is kept; terminate()
      // aborts the request and ws then emits 'error' and 'close' (1006) as usual.
      httpStatus = response.statusCode;
      response.resume();
      socket.terminate();
    });
    socket.on('open', () => {
      if (!done) handlers.open();
    });
    socket.on('message', (data, isBinary) => {
      if (done) return;
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      handlers.message(isBinary ? buffer : buffer.toString());
    });
    socket.on('ping', () => {
      if (!done) handlers.activity();
    });
    socket.on('error', (error) => {
      if (!done) handlers.error(error);
    });
    socket.on('close', (code, reason) => {
      if (done) return;
      done = true;
      handlers.close(code, reason.toString(), httpStatus);
    });
    return {
      send(data) {
        if (socket.readyState === WebSocket.OPEN) socket.send(data);
      },
      close(code, reason) {
        socket.close(code, reason);
      },
      terminate() {
        done = true;
        socket.terminate();
      },
    };
  };
}
