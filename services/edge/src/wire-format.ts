/**
 * What differs between the two subprotocols (PROTOCOL.md sections 2.4 and 9): how a
 * frame is encoded and framed. Everything else (limits, order, recovery, close codes)
 * is the same code for both; a session holds its format and never asks which it is.
 */
import type { ConnectedFrame, DecodeResult, ProblemDefinition, SubscribedFrame } from '@herald/protocol';

export interface WireFormat {
  /** The `Sec-WebSocket-Protocol` token. */
  readonly subprotocol: string;
  /** Metric label. */
  readonly name: 'json' | 'protobuf';
  /** Frames travel as binary (protobuf) or text (JSON) WebSocket frames, both ways. */
  readonly binary: boolean;

  // Control frames: complete WebSocket frames, ready to queue.
  connected(id: string, data: ConnectedFrame['data']): Buffer;
  subscribed(replyTo: string | undefined, data: SubscribedFrame['data']): Buffer;
  /** `reason`: absent when the client asked; `forbidden` when a refresh took the grant away. */
  unsubscribed(replyTo: string | undefined, channel: string, reason?: string): Buffer;
  /** The reply to `refresh`; `expiresAt` (ISO 8601) when the new token has `exp`. */
  refreshed(replyTo: string | undefined, expiresAt?: string): Buffer;
  pong(replyTo: string | undefined): Buffer;
  error(problem: ProblemDefinition, message: string, replyTo?: string, channel?: string): Buffer;

  /** A client frame (already of the right kind, text or binary) to a command or a problem; never throws. */
  decode(data: Buffer, maxJsonDepth: number): DecodeResult;

  /**
   * An event's payload in this format, from the envelope as the broker carries it
   * (JSON bytes with the seq spliced in). Throws only for an envelope the ingest never
   * lets through.
   */
  eventPayload(envelope: Buffer): Buffer;
  /** The payload as one frame, uncompressed or compressed (permessage-deflate, RSV1). */
  frame(payload: Buffer): Buffer;
  frameCompressed(payload: Buffer): Buffer;
}
