/**
 * Errors the SDK reports through `error` events (client and subscription) and promise
 * rejections. Problem types are the catalogue's (`@herald/protocol`), spelled once.
 */

export type HeraldErrorKind =
  /** The server answered with an `error` frame; `problemType` names it. */
  | 'problem'
  /** A command got no reply within `commandTimeout`. */
  | 'timeout'
  /** The server refused the token (close 1008 or HTTP 401) and there is no way to get a new one. */
  | 'auth'
  /** `getToken()` threw or rejected. */
  | 'token'
  /** The connection failed or was lost while a command was in flight. */
  | 'transport'
  /** The server sent something that is not a v1 frame. */
  | 'protocol';

export interface HeraldErrorDetails {
  problemType?: string | undefined;
  channel?: string | undefined;
  replyTo?: string | undefined;
  code?: number | undefined;
  httpStatus?: number | undefined;
  cause?: unknown;
}

export class HeraldError extends Error {
  readonly kind: HeraldErrorKind;
  /** `/problems/<name>` when the server reported a problem. */
  readonly problemType: string | undefined;
  /** The channel the error is about, where there is one. */
  readonly channel: string | undefined;
  /** The command id the error answers, where there is one. */
  readonly replyTo: string | undefined;
  /** The close code that came with it, where there is one. */
  readonly code: number | undefined;
  /** The HTTP status of a refused handshake, where the transport can see it (Node, `ws`). */
  readonly httpStatus: number | undefined;

  constructor(kind: HeraldErrorKind, message: string, details: HeraldErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HeraldError';
    this.kind = kind;
    this.problemType = details.problemType;
    this.channel = details.channel;
    this.replyTo = details.replyTo;
    this.code = details.code;
    this.httpStatus = details.httpStatus;
  }
}
