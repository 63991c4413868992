/**
 * Refusals written on a raw socket, where Node has no response object: an upgrade
 * refused before the WebSocket exists, and requests that Node's HTTP parser itself
 * gave up on (`clientError`). Both answer with an RFC 9457 problem document like every
 * other HTTP error, then close the connection, so nothing but Herald ever answers.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Problem, type ProblemDefinition } from '@herald/protocol';
import { problemResponse } from './problem-response.js';

/** Request line plus headers, in bytes (Node's parser limit; over it: 431). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** The request target, in bytes (over it: 414). */
export const MAX_URL_BYTES = 8 * 1024;
/** Time for a client to send a request's headers (over it: 408; slowloris). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Time for a whole request, body included (over it: 408). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node checks the two timeouts above. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Writes a problem response on a raw socket and closes it. */
export function refuseRaw(socket: Duplex, problem: ProblemDefinition, detail: string, headers: Readonly<Record<string, string>> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const response = problemResponse(problem, detail, undefined, headers);
  let head = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'Error'}\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(response.headers)) head += `${name}: ${value}\r\n`;
  socket.end(`${head}\r\n${response.body}`);
  // A client that never reads must not keep the socket open.
  (socket as Duplex & { setTimeout?: (ms: number, callback: () => void) => void }).setTimeout?.(HEADERS_TIMEOUT_MS, () => socket.destroy());
}

/** The problem for an error of Node's HTTP parser or its timeouts. */
export function clientErrorProblem(error: Error & { code?: string }): { problem: ProblemDefinition; detail: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { problem: Problem.requestHeaderFieldsTooLarge, detail: `The request line and headers must fit in ${MAX_HEADER_BYTES} bytes` };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { problem: Problem.requestTimeout, detail: `The request did not arrive in time (headers within ${HEADERS_TIMEOUT_MS / 1000} s, the whole request within ${REQUEST_TIMEOUT_MS / 1000} s)` };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { problem: Problem.invalidRequest, detail: 'Ambiguous message length: one Content-Length, or Transfer-Encoding: chunked alone' };
    default:
      return { problem: Problem.invalidRequest, detail: 'The request is not valid HTTP/1.1' };
  }
}

/**
 * Node's `clientError`: answer with a problem document while a response is still
 * possible (the socket is writable and no response has started), then close.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const response = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  const { problem, detail } = clientErrorProblem(error);
  refuseRaw(socket, problem, detail);
}
