/**
 * The handshake checks of PROTOCOL.md section 2, in order: version (path), origin,
 * token, subprotocol. Admission comes after, asynchronously, in the server.
 */
import type { IncomingMessage } from 'node:http';
import { Problem, SUBPROTOCOL, WEBSOCKET_PATH, type ProblemDefinition } from '@herald/protocol';
import { bearerToken } from '@herald/runtime';
import type { Identity, TokenVerifier } from './auth.js';

export interface HandshakeOptions {
  /** Empty: any origin. `['*']`: any origin. Otherwise exact origins. */
  allowedOrigins: readonly string[];
}

export type HandshakeResult =
  | { ok: true; identity: Identity; protocol: string | undefined }
  | { ok: false; problem: ProblemDefinition; detail: string };

export function checkHandshake(req: IncomingMessage, options: HandshakeOptions, verifier: TokenVerifier): HandshakeResult {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  if (path !== WEBSOCKET_PATH) {
    return { ok: false, problem: Problem.notFound, detail: `No WebSocket endpoint at ${path}; use ${WEBSOCKET_PATH}` };
  }

  const origin = req.headers.origin;
  if (origin !== undefined && options.allowedOrigins.length > 0 && options.allowedOrigins[0] !== '*' && !options.allowedOrigins.includes(origin)) {
    return { ok: false, problem: Problem.forbiddenOrigin, detail: `Origin ${origin} is not allowed` };
  }

  const token = tokenOf(req, queryStart === -1 ? '' : url.slice(queryStart + 1));
  if (token === undefined) {
    return { ok: false, problem: Problem.unauthorized, detail: 'A token is required: Authorization: Bearer <jwt> or ?access_token=<jwt>' };
  }
  const verified = verifier.verify(token);
  if (!verified.ok) return { ok: false, problem: Problem.unauthorized, detail: `Invalid token: ${verified.reason}` };

  const offered = req.headers['sec-websocket-protocol'];
  let protocol: string | undefined;
  if (offered !== undefined) {
    const protocols = offered.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
    if (!protocols.includes(SUBPROTOCOL)) {
      return { ok: false, problem: Problem.unsupportedProtocol, detail: `Offered subprotocols are not supported; this server speaks ${SUBPROTOCOL}` };
    }
    protocol = SUBPROTOCOL;
  }
  return { ok: true, identity: verified.identity, protocol };
}

function tokenOf(req: IncomingMessage, query: string): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) return bearerToken(header);
  if (query.length === 0) return undefined;
  const value = new URLSearchParams(query).get('access_token');
  return value === null || value.length === 0 ? undefined : value;
}
