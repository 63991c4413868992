/**
 * One HTTP server per port: health, metrics, then each service's routes, then a
 * problem 404. The edge also takes WebSocket upgrades on it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Problem } from '@herald/protocol';
import { safePath, sendError, sendProblem, serveMetrics, type Health, type Logger, type Registry } from '@herald/runtime';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface ServiceServerOptions {
  health: Health;
  registry: Registry;
  routes: RouteHandler[];
  upgrade?: UpgradeHandler;
  logger: Logger;
}

export function createServiceServer(options: ServiceServerOptions): Server {
  const server = createServer((req, res) => {
    try {
      const path = safePath(req.url);
      if (options.health.handle(req, res, path)) return;
      if (path === '/metrics') {
        serveMetrics(options.registry, res).catch((error: unknown) => {
          options.logger.error({ err: error }, 'metrics failed');
          if (!res.headersSent) sendError(res, error);
        });
        return;
      }
      for (const route of options.routes) if (route(req, res, path)) return;
      sendProblem(res, Problem.notFound, `No route for ${req.method ?? 'GET'} ${path}`);
      req.resume();
    } catch (error) {
      options.logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendError(res, error);
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.upgrade) {
      options.upgrade(req, socket, head);
      return;
    }
    socket.on('error', () => {});
    const body = JSON.stringify({ type: Problem.notFound.type, title: Problem.notFound.title, status: 404, detail: 'No WebSocket endpoint on this port' });
    socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
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
