/**
 * Every way a server ends a WebSocket session, spelled once (PROTOCOL.md section 3):
 * the close frame (code and reason text; none when the TCP connection is dropped
 * without one), the error frame sent first when the client is told why, and the label
 * the edge counts it under (`herald_edge_disconnects_total{reason}`).
 */
import { CloseCode } from './close-codes.js';
import { Problem, type ProblemDefinition } from './problems.js';

export interface Disconnect {
  /** Metric label. */
  readonly label: DisconnectLabel;
  /** The close frame; absent when the connection is dropped without one (a dead or stuck peer). */
  readonly close?: { readonly code: CloseCode; readonly reason: string };
  /** The error frame sent just before the close. */
  readonly notice?: { readonly problem: ProblemDefinition; readonly message: string };
}

/** A disconnect that sends a close frame. */
export type ClosingDisconnect = Disconnect & { readonly close: NonNullable<Disconnect['close']> };

function closing(label: DisconnectLabel, code: CloseCode, reason: string, notice?: Disconnect['notice']): ClosingDisconnect {
  return notice === undefined ? { label, close: { code, reason } } : { label, close: { code, reason }, notice };
}

export type DisconnectLabel =
  | 'client'
  | 'drain'
  | 'rebalance'
  | 'token-expired'
  | 'revoked'
  | 'rate-abuse'
  | 'slow-consumer'
  | 'write-timeout'
  | 'read-timeout'
  | 'invalid-streak'
  | 'binary-frame'
  | 'text-frame'
  | 'admission-refused'
  | 'internal';

export const Disconnect = {
  /** The client closed, or its connection died. */
  client: { label: 'client' },
  /** The node is shutting down: go to another node after a jittered delay. */
  drain: closing('drain', CloseCode.GoingAway, 'node draining: reconnect to another node'),
  /** The drain period is over: whoever is still connected is dropped. */
  drainOver: { label: 'drain' },
  /** The node is well above the cluster's average connections (REBALANCE_THRESHOLD). */
  rebalance: closing('rebalance', CloseCode.GoingAway, 'node above the cluster average: reconnect to another node'),
  tokenExpired: closing('token-expired', CloseCode.PolicyViolation, 'token expired', { problem: Problem.unauthorized, message: 'Token expired; reconnect with a new token' }),
  revoked: closing('revoked', CloseCode.PolicyViolation, 'session revoked', { problem: Problem.unauthorized, message: 'Session revoked' }),
  rateAbuse: closing('rate-abuse', CloseCode.PolicyViolation, 'sustained command rate abuse'),
  slowConsumer: closing('slow-consumer', CloseCode.PolicyViolation, 'slow consumer: send buffer over limit'),
  /** The send buffer did not drain within WEBSOCKET_WRITE_TIMEOUT: dropped, a close frame could not get through. */
  writeTimeout: { label: 'write-timeout' },
  /** Nothing heard within WEBSOCKET_READ_TIMEOUT: dropped. */
  readTimeout: { label: 'read-timeout' },
  invalidStreak: closing('invalid-streak', CloseCode.InvalidPayload, 'too many invalid messages in a row'),
  binaryFrame: closing('binary-frame', CloseCode.UnsupportedData, 'binary frames are not supported on v1.json'),
  textFrame: closing('text-frame', CloseCode.UnsupportedData, 'text frames are not supported on v1.protobuf'),
  /** MAX_CONNECTIONS or MAX_CONNECTIONS_PER_USER reached: try again later. */
  admissionRefused: closing('admission-refused', CloseCode.TryAgainLater, 'maximum number of connections reached', {
    problem: Problem.reachMaximumConnections,
    message: 'Maximum number of connections reached',
  }),
  internal: closing('internal', CloseCode.InternalError, 'internal error'),
} as const satisfies Record<string, Disconnect>;
