/**
 * The handshake checks of PROTOCOL.md section 2, in order: version (path), the
 * WebSocket request itself (RFC 6455 section 4.2.1), origin, token, subprotocol.
 * Admission comes after, asynchronously, in the server.
 *
 * Every request that `ws` would refuse is refused here first, with a problem document,
 * so that `ws` never answers on Herald's behalf.
 */
import type { IncomingMessage } from 'node:http';
import { Problem, WEBSOCKET_PATH, type ProblemDefinition } from '@herald/protocol';
import { bearerToken } from '@herald/runtime';
import type { Identity, TokenVerifier } from './auth.js';
import { DEFAULT_FORMAT, SPOKEN_SUBPROTOCOLS, negotiateFormat } from './subprotocols.js';
import type { WireFormat } from './wire-format.js';

export interface HandshakeOptions {
  /** Empty: any origin. `['*']`: any origin. Otherwise exact origins. */
  allowedOrigins: readonly string[];
}

export type HandshakeRefusal = { ok: false; problem: ProblemDefinition; detail: string; headers?: Record<string, string> };

/** `protocol`: the subprotocol to answer with (none when none was offered); `format`: the session's. */
export type HandshakeResult = { ok: true; identity: Identity; protocol: string | undefined; format: WireFormat } | HandshakeRefusal;

/** RFC 6455 section 4.1: the key is 16 random bytes, base64-encoded. */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 7230 token: what a subprotocol name may be (RFC 6455 section 4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function checkHandshake(req: IncomingMessage, options: HandshakeOptions, verifier: TokenVerifier): HandshakeResult {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  if (path !== WEBSOCKET_PATH) {
    return refuse(Problem.notFound, `No WebSocket endpoint at ${path}; use ${WEBSOCKET_PATH}`);
  }
  const websocket = checkWebSocketRequest(req);
  if (websocket !== undefined) return websocket;

  const origin = req.headers.origin;
  if (origin !== undefined && options.allowedOrigins.length > 0 && options.allowedOrigins[0] !== '*' && !options.allowedOrigins.includes(origin)) {
    return refuse(Problem.forbiddenOrigin, `Origin ${origin} is not allowed`);
  }

  const token = tokenOf(req, queryStart === -1 ? '' : url.slice(queryStart + 1));
  if (token === undefined) {
    return refuse(Problem.unauthorized, 'A token is required: Authorization: Bearer <jwt> or ?access_token=<jwt>');
  }
  const verified = verifier.verify(token);
  if (!verified.ok) return refuse(Problem.unauthorized, `Invalid token: ${verified.reason}`);

  const offered = req.headers['sec-websocket-protocol'];
  if (offered === undefined) return { ok: true, identity: verified.identity, protocol: undefined, format: DEFAULT_FORMAT };
  const protocols = parseProtocols(offered);
  if (protocols === undefined) return refuse(Problem.invalidRequest, 'Sec-WebSocket-Protocol must be a comma-separated list of distinct tokens');
  // The first one in the client's order that this server speaks (PROTOCOL.md section 2.4).
  const format = negotiateFormat(protocols);
  if (format === undefined) {
    return refuse(Problem.unsupportedProtocol, `Offered subprotocols are not supported; this server speaks ${SPOKEN_SUBPROTOCOLS.join(' and ')}`);
  }
  return { ok: true, identity: verified.identity, protocol: format.subprotocol, format };
}

/** The request is a WebSocket opening handshake `ws` will accept, or the refusal. */
function checkWebSocketRequest(req: IncomingMessage): HandshakeRefusal | undefined {
  if (req.method !== 'GET') return refuse(Problem.methodNotAllowed, `${WEBSOCKET_PATH} accepts GET only`, { Allow: 'GET' });
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return refuse(Problem.invalidRequest, 'The Upgrade header must be "websocket"');
  // RFC 6455 section 4.2.2: any version but 13 gets 426 naming the one we speak.
  const version = req.headers['sec-websocket-version'];
  if (version !== '13') {
    return refuse(Problem.upgradeRequired, `Sec-WebSocket-Version must be 13 (got ${version === undefined ? 'none' : JSON.stringify(version.slice(0, 16))})`, {
      'Sec-WebSocket-Version': '13',
    });
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !WEBSOCKET_KEY.test(key)) return refuse(Problem.invalidRequest, 'Sec-WebSocket-Key must be 16 bytes in base64');
  return undefined;
}

/** Subprotocols in the client's order, or undefined when the header is malformed. */
function parseProtocols(header: string): string[] | undefined {
  const protocols = header.split(',').map((item) => item.trim());
  if (protocols.some((item) => !TOKEN.test(item))) return undefined;
  if (new Set(protocols).size !== protocols.length) return undefined;
  return protocols;
}

function refuse(problem: ProblemDefinition, detail: string, headers?: Record<string, string>): HandshakeRefusal {
  return headers === undefined ? { ok: false, problem, detail } : { ok: false, problem, detail, headers };
}

function tokenOf(req: IncomingMessage, query: string): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) return bearerToken(header);
  if (query.length === 0) return undefined;
  const value = new URLSearchParams(query).get('access_token');
  return value === null || value.length === 0 ? undefined : value;
}
