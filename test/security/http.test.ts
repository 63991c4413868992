/**
 * Security, HTTP: resource exhaustion against a real edge and ingest on Redis. Headers
 * that never finish (slowloris) get 408 /problems/request-timeout within the 10 s
 * header timeout (a constant, HEADERS_TIMEOUT_MS: there is no setting to shorten it, so
 * this test takes about 10 s and runs the other attacks of the window beside it); 300
 * idle TCP sockets do not keep a legitimate client out; a 10 MB chunked body is cut off
 * at 256 KiB with 413 /problems/payload-too-large without the ingest's memory growing
 * by the body.
 *
 * Covered once elsewhere, not repeated here: a bad Sec-WebSocket-Key (400) or
 * Sec-WebSocket-Version (426), Content-Length with Transfer-Encoding (400), two
 * Content-Lengths, a request line too long (414): test/hardening/http-refusals.test.ts.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, type RawAnswer } from '../support/raw-http.js';
import { publisherToken } from '../support/tokens.js';
import { expectRawProblem } from '../hardening/support.js';
import { memoryOf, startTarget, type Target } from './support.js';

const HEADERS_TIMEOUT_MS = 10_000;
const MiB = 1024 * 1024;
let target: Target;

beforeAll(async () => {
  target = await startTarget({ label: 'sec-http' });
});

afterAll(async () => {
  await target?.stop();
});

afterEach(async () => {
  await target.expectServes();
});

/** An idle TCP connection; `ended` resolves with what the server sent and when it closed. */
function idleSocket(port: number, firstBytes = ''): { socket: Socket; ended: Promise<{ text: string; elapsedMs: number }> } {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  if (firstBytes !== '') socket.on('connect', () => socket.write(firstBytes));
  const ended = new Promise<{ text: string; elapsedMs: number }>((resolve) => socket.on('close', () => resolve({ text, elapsedMs: Date.now() - started })));
  return { socket, ended };
}

describe('slow and idle clients', () => {
  it('slowloris headers get 408 within the header timeout on both services; 300 idle sockets meanwhile keep no one out and are closed too', async () => {
    const slow = (port: number): Promise<RawAnswer> =>
      rawRequest(port, 'GET /v1/ws HTTP/1.1\r\nHost: x\r\n', {
        // One header line every 500 ms, never the blank line that ends them.
        trickle: { chunks: Array.from({ length: 60 }, (_, i) => `X-Slow-${i}: ${i}\r\n`), delayMs: 500 },
        timeoutMs: HEADERS_TIMEOUT_MS + 8_000,
      });
    const slowEdge = slow(target.edge.port);
    const slowIngest = slow(target.ingest.port);
    // 300 connections that send nothing, or half a request line.
    const idle = Array.from({ length: 300 }, (_, i) => idleSocket(i % 2 === 0 ? target.edge.port : target.ingest.port, i % 3 === 0 ? 'GET /v1/w' : ''));
    await Promise.all(idle.map(({ socket }) => new Promise<void>((resolve) => (socket.connecting ? socket.once('connect', () => resolve()) : resolve()))));

    // While all of them hold a connection, a legitimate client connects, subscribes and receives.
    const started = Date.now();
    await target.expectServes();
    expect(Date.now() - started).toBeLessThan(3_000);

    for (const answer of await Promise.all([slowEdge, slowIngest])) {
      expectRawProblem(answer, 408, '/problems/request-timeout');
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 1_000);
      expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000);
    }
    // The idle sockets were not kept forever either: the server closed each within the same bound.
    const ends = await Promise.all(idle.map(({ ended }) => ended));
    for (const end of ends) {
      expect(end.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000);
      // Answered 408 where a request had begun, or closed without a word.
      if (end.text !== '') expect(end.text).toMatch(/^HTTP\/1\.1 408 /);
    }
  }, 30_000);
});

describe('request bodies', () => {
  it.each([
    { refusal: '413 payload-too-large (over the body limit)', auth: () => `Authorization: Bearer ${publisherToken()}\r\n`, status: 413, type: '/problems/payload-too-large' },
    { refusal: '401 unauthorized (no bearer), refused before any of the body', auth: () => '', status: 401, type: '/problems/unauthorized' },
  ])('a 10 MB chunked body, $refusal: the connection cut before the end, the ingest not holding the body', async ({ auth, status: expected, type }) => {
    const before = memoryOf(target.ingest.pid);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const socket = connect(target.ingest.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (text += data));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    // Try to write all 10 MB as fast as the server reads.
    let sent = 0;
    while (sent < 10 * MiB && !socket.destroyed) {
      if (!socket.write(framed)) await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('drain', () => resolve()).once('close', () => resolve())));
      sent += chunk.length;
    }
    if (!socket.destroyed) socket.end('0\r\n\r\n');
    await closed;
    const after = memoryOf(target.ingest.pid);

    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    expect(status, text.slice(0, 200)).toBe(expected);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toMatchObject({ type, status: expected });
    // The server cut the connection: past the limit it discards at most 1 MiB more (DISCARD_ALLOWANCE_BYTES).
    expect(sent, `${sent} bytes written before the server closed`).toBeLessThan(10 * MiB);
    // Generous: the body is 10 MB; reading a quarter MiB of it must not make the process grow near that.
    expect(after.peak - before.peak, `peak RSS ${before.peak} -> ${after.peak}`).toBeLessThan(6 * MiB);
    expect(after.rss - before.rss, `RSS ${before.rss} -> ${after.rss}`).toBeLessThan(6 * MiB);
  });

  it('a 10 MB Content-Length: 413 at once, before any of the body is sent', async () => {
    const request = `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${publisherToken()}\r\nContent-Type: application/json\r\nContent-Length: ${10 * MiB}\r\n\r\n`;
    // The answer comes at once, before any byte of the body.
    const answer = await rawRequest(target.ingest.port, request, { untilHeaders: true, timeoutMs: 5_000 });
    expect(answer.status, answer.body.slice(0, 200)).toBe(413);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.elapsedMs).toBeLessThan(2_000);
  });

  it('a chunked body to the edge, which takes none: a problem answer at once, the edge not buffering the body', async () => {
    const before = memoryOf(target.edge.pid);
    const chunk = `ffff\r\n${' '.repeat(0xffff)}\r\n`;
    const request = `POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(40)}`;
    const answer = await rawRequest(target.edge.port, request, { untilHeaders: true, timeoutMs: 5_000 });
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(memoryOf(target.edge.pid).peak - before.peak).toBeLessThan(6 * MiB);
  });
});
