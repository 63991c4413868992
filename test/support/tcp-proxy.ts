/**
 * A TCP proxy for network faults between one process and its upstream (an edge and
 * Redis): it listens on port 0 and forwards every connection to `target`, in one of
 * three modes, switchable at any time:
 *
 *   const proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
 *   REDIS_URL = proxy.url                  // redis://127.0.0.1:<proxy port>
 *   proxy.setMode('drop');                 // the link is cut: open connections destroyed, new ones too
 *   proxy.setMode('stall');                // the link hangs: connections stay open, nothing is forwarded
 *   proxy.setMode('pass');                 // restored: stalled bytes flow on, new connections pass
 *   await proxy.close();
 *
 * 'drop' is a cable pulled with the peers told (each side sees its connection reset),
 * 'stall' a link that silently stops carrying packets (no side notices until a timeout
 * of its own). Bytes read while stalled are held in the proxy (sockets paused, so TCP
 * backpressure holds the rest) and delivered in order on 'pass'.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'drop' | 'stall';

export interface TcpProxy {
  readonly port: number;
  /** redis://127.0.0.1:<port>: the proxy as a REDIS_URL. */
  readonly url: string;
  readonly mode: ProxyMode;
  /** Connections accepted so far (a reconnecting client shows up here). */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

/** One direction of a link: bytes read while stalled wait in `held`. */
interface Direction {
  from: Socket;
  to: Socket;
  held: Buffer[];
}

interface Link {
  client: Socket;
  upstream: Socket;
  directions: [Direction, Direction];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  const links = new Set<Link>();

  const destroy = (link: Link): void => {
    links.delete(link);
    // resetAndDestroy sends a RST: the peer learns at once that the connection is gone.
    for (const socket of [link.client, link.upstream]) {
      if (socket.destroyed) continue;
      if (socket.readyState === 'open') socket.resetAndDestroy();
      else socket.destroy();
    }
  };

  // Forwarding by hand rather than pipe(): pipe() resumes a paused reader on the
  // writer's 'drain', which would let bytes through a stall.
  const forward = (direction: Direction): void => {
    const { from, to, held } = direction;
    from.on('data', (chunk: Buffer) => {
      if (mode !== 'pass') {
        held.push(chunk);
        from.pause();
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (mode === 'pass') from.resume();
        });
      }
    });
  };

  const release = (direction: Direction): void => {
    const { from, to, held } = direction;
    for (const chunk of held.splice(0)) to.write(chunk);
    from.resume();
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (mode === 'drop') {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(target);
    const link: Link = {
      client,
      upstream,
      directions: [
        { from: client, to: upstream, held: [] },
        { from: upstream, to: client, held: [] },
      ],
    };
    links.add(link);
    const end = (): void => destroy(link);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    for (const direction of link.directions) forward(direction);
    if (mode === 'stall') for (const direction of link.directions) direction.from.pause();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return links.size;
    },
    setMode(next: ProxyMode) {
      mode = next;
      for (const link of [...links]) {
        if (next === 'drop') destroy(link);
        else if (next === 'stall') for (const direction of link.directions) direction.from.pause();
        else for (const direction of link.directions) release(direction);
      }
    },
    async close() {
      for (const link of [...links]) destroy(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
