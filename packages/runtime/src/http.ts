/**
 * Small HTTP helpers shared by the services: JSON and problem answers, bounded body
 * reading. Plain node:http; no framework on the request path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldProblemError, Problem, type ProblemDefinition } from '@herald/protocol';
import { problemResponse } from './problem-response.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendProblem(
  res: ServerResponse,
  definition: ProblemDefinition,
  detail?: string,
  extensions?: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const response = problemResponse(definition, detail, extensions, headers);
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** Answers a thrown error: its own problem when it has one, `internal` otherwise. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof HeraldProblemError) sendProblem(res, error.problem, error.detail, error.extensions);
  else sendProblem(res, Problem.internal, 'The server could not handle the request');
}

/**
 * A refused body is read on and thrown away, so that a client that sends its whole body
 * before reading (fetch, most HTTP libraries) sees the answer rather than a reset: to
 * its end when Content-Length declares at most this much (the parser stops there)...
 */
export const MAX_DRAINED_BODY_BYTES = 16 * 1024 * 1024;
/** ...otherwise (chunked, or declared larger) at most this much more, then the connection is closed. */
export const DISCARD_ALLOWANCE_BYTES = 1024 * 1024;

/**
 * Reads and discards the rest of a refused request's body within the bounds above, then
 * closes the connection: a refused body cannot be streamed on for as long as the request
 * timeout allows.
 */
export function discardBody(req: IncomingMessage): void {
  const declared = Number(req.headers['content-length']);
  const allowance = Number.isFinite(declared) && declared <= MAX_DRAINED_BODY_BYTES ? Number.POSITIVE_INFINITY : DISCARD_ALLOWANCE_BYTES;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > allowance) req.socket.destroy();
  });
  req.resume();
}

/**
 * Reads a request body up to `limit` bytes. Rejects with `payload-too-large` as soon
 * as the limit is passed (by Content-Length or by counting), without buffering more;
 * what follows is discarded (discardBody).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    discardBody(req);
    return Promise.reject(new HeraldProblemError(Problem.payloadTooLarge, `The body is larger than ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > limit) {
        failed = true;
        reject(new HeraldProblemError(Problem.payloadTooLarge, `The body is larger than ${limit} bytes`));
        discardBody(req);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

/** The media type of a request without parameters, lower-cased. */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'];
  if (!header) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

/** Bearer token of the Authorization header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
