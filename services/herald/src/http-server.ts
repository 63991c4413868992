/**
 * One HTTP server per port: health, metrics, then each service's routes, then a
 * problem 404. The edge also takes WebSocket upgrades on it. With a certificate
 * (TLS_CERT_FILE and TLS_KEY_FILE, or TLS=self-signed) it is an HTTPS server on the
 * same port, with the same limits and answers: `wss://` and `https://`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { Problem } from '@herald/protocol';
import {
  HEADERS_TIMEOUT_MS,
  MAX_HEADER_BYTES,
  MAX_URL_BYTES,
  REQUEST_TIMEOUT_MS,
  TIMEOUT_CHECK_INTERVAL_MS,
  answerClientError,
  discardBody,
  refuseRaw,
  safePath,
  sendError,
  sendProblem,
  serveMetrics,
  type Health,
  type Logger,
  type Registry,
} from '@herald/runtime';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface ServiceServerOptions {
  health: Health;
  registry: Registry;
  routes: RouteHandler[];
  upgrade?: UpgradeHandler;
  logger: Logger;
  /** The /metrics text when it is gathered beyond this process (edge workers). */
  metricsText?: () => Promise<string>;
  /** PEM certificate (chain) and key: serve HTTPS. Replaced later with setSecureContext. */
  tls?: { cert: Buffer; key: Buffer };
}

export { HttpsServer };

export function createServiceServer(options: ServiceServerOptions): Server {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      if ((req.url?.length ?? 0) > MAX_URL_BYTES) {
        sendProblem(res, Problem.uriTooLong, `The request target must be at most ${MAX_URL_BYTES} bytes`, undefined, { connection: 'close' });
        discardBody(req);
        return;
      }
      const path = safePath(req.url);
      if (options.health.handle(req, res, path)) return;
      if (path === '/metrics') {
        serveMetrics(options.registry, res, options.metricsText).catch((error: unknown) => {
          options.logger.error({ err: error }, 'metrics failed');
          if (!res.headersSent) sendError(res, error);
        });
        return;
      }
      for (const route of options.routes) if (route(req, res, path)) return;
      sendProblem(res, Problem.notFound, `No route for ${req.method ?? 'GET'} ${path}`);
      discardBody(req);
    } catch (error) {
      options.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendError(res, error);
    }
  };
  const limits = {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const server: Server = options.tls ? createHttpsServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, handle) : createServer(limits, handle);
  if (server instanceof HttpsServer) {
    // A failed handshake (a plain-HTTP or ws:// client, an untrusting client, a port
    // scanner) only closes that socket: it is the client's error, not a server's.
    server.on('tlsClientError', (_error: Error, socket: Duplex) => socket.destroy());
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', ignoreSocketError);
    if ((req.url?.length ?? 0) > MAX_URL_BYTES) {
      refuseRaw(socket, Problem.uriTooLong, `The request target must be at most ${MAX_URL_BYTES} bytes`);
      return;
    }
    if (options.upgrade) {
      options.upgrade(req, socket, head);
      return;
    }
    refuseRaw(socket, Problem.notFound, 'No WebSocket endpoint on this port');
  });
  // Node's parser and timeouts refuse some requests before any handler runs: they get
  // a problem document too (431, 408, 400), never Node's bare answer.
  server.on('clientError', answerClientError);
  return server;
}

function ignoreSocketError(): void {
  // A client that resets the connection mid-request is not an error of ours.
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
