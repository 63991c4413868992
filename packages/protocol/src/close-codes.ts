/**
 * WebSocket close codes as Herald uses them (PROTOCOL.md section 3, "Close codes").
 * Spelled once here; the edge and the SDK both import them.
 */
export const CloseCode = {
  /** Normal closure: the session ended cleanly. */
  Normal: 1000,
  /** The node is draining for shutdown: reconnect to any node after a jittered delay. */
  GoingAway: 1001,
  /** Protocol error, from the WebSocket layer. */
  ProtocolError: 1002,
  /** Unsupported data: a binary frame on `v1.json`, a text frame on `v1.protobuf`. */
  UnsupportedData: 1003,
  /** Abnormal closure: never sent, only observed when the TCP connection dies. */
  Abnormal: 1006,
  /** Invalid payload: invalid UTF-8, or too many invalid messages in a row. */
  InvalidPayload: 1007,
  /** Policy violation: token expired, sustained rate abuse, or a slow consumer. */
  PolicyViolation: 1008,
  /** A client frame over MAX_MESSAGE_SIZE. */
  MessageTooBig: 1009,
  /** Internal error. */
  InternalError: 1011,
  /** Try again later: maximum connections reached. */
  TryAgainLater: 1013,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client reconnects with backoff, with the same token. */
export const RECONNECTABLE_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.GoingAway,
  CloseCode.Abnormal,
  CloseCode.InternalError,
  CloseCode.TryAgainLater,
]);
