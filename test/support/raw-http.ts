/**
 * HTTP/1.1 requests written byte for byte on a TCP socket, for requests no HTTP client
 * sends (conflicting lengths, a missing WebSocket key, headers that never end): the
 * test writes what it wants and reads the answer as it comes, up to the close.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** 0 when the server closed without answering. */
  status: number;
  /** Header names lower-cased; the last value wins. */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: any;
  /** The server closed the connection after answering. */
  closed: boolean;
  /** Milliseconds from the first byte written to the answer (or the close). */
  elapsedMs: number;
}

export interface RawRequestOptions {
  /** Give up after this long (the answer then has status 0 and closed false). */
  timeoutMs?: number;
  /** Resolve as soon as the status line and headers are in (for answers that keep the connection, such as 101). */
  untilHeaders?: boolean;
  /** Bytes written after `request`, each after `delayMs`: a slow client. */
  trickle?: { chunks: string[]; delayMs: number };
}

/** Writes `request` (a string or bytes) to 127.0.0.1:`port` and reads until the server closes. */
export function rawRequest(port: number, request: string | Buffer, options: RawRequestOptions = {}): Promise<RawAnswer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const started = Date.now();
    let settled = false;
    let trickleTimer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(trickleTimer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks), closed, Date.now() - started));
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.untilHeaders && Buffer.concat(chunks).includes('\r\n\r\n')) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(request);
      const trickle = options.trickle;
      if (trickle === undefined) return;
      let next = 0;
      const writeNext = (): void => {
        if (settled || next >= trickle.chunks.length || socket.destroyed) return;
        socket.write(trickle.chunks[next++]!);
        trickleTimer = setTimeout(writeNext, trickle.delayMs);
      };
      trickleTimer = setTimeout(writeNext, trickle.delayMs);
    });
  });
}

function parseAnswer(bytes: Buffer, closed: boolean, elapsedMs: number): RawAnswer {
  const text = bytes.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? '' : text.slice(end + 4);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status, headers, body, json, closed, elapsedMs };
}

/** A WebSocket opening handshake for `path`, with `headers` replacing or removing (undefined) the defaults. */
export function upgradeRequest(path: string, headers: Record<string, string | undefined> = {}): string {
  const base: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  let text = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(base)) if (value !== undefined) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}
