/**
 * Refusing an upgrade before the WebSocket exists: a plain HTTP response with a
 * problem document, written on the raw socket, then the socket is closed.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problemDocument, type ProblemDefinition } from '@herald/protocol';

export function rejectUpgrade(socket: Duplex, problem: ProblemDefinition, detail: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problemDocument(problem, detail));
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      // RFC 9110: a 401 names the scheme the client must use.
      (problem.status === 401 ? 'WWW-Authenticate: Bearer realm="herald"\r\n' : '') +
      `\r\n${body}`,
  );
}
