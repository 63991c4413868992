/**
 * `v1.protobuf` (PROTOCOL.md section 9): binary frames, `WebSocketMessage` out and
 * `ClientCommand` in, through the codec of `@herald/protocol/protobuf`. Commands decode
 * to the same result as their JSON twins, so the session treats both alike.
 */
import { PROTOBUF_SUBPROTOCOL } from '@herald/protocol';
import {
  decodeClientCommand,
  encodeConnectedMessage,
  encodeErrorMessage,
  encodeEventMessage,
  encodePongMessage,
  encodeRefreshedMessage,
  encodeSubscribedMessage,
  encodeUnsubscribedMessage,
  type EventEnvelope,
} from '@herald/protocol/protobuf';
import { frameCompressedBinary } from './compression.js';
import { frameBinary } from './frame.js';
import type { WireFormat } from './wire-format.js';

/** The encoder's bytes as a Buffer over the same memory (no copy). */
function bytes(message: Uint8Array): Buffer {
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength);
}

export const PROTOBUF_FORMAT: WireFormat = {
  subprotocol: PROTOBUF_SUBPROTOCOL,
  name: 'protobuf',
  binary: true,
  connected: (id, data) => frameBinary(encodeConnectedMessage(id, data)),
  subscribed: (replyTo, data) => frameBinary(encodeSubscribedMessage(replyTo, data)),
  unsubscribed: (replyTo, channel, reason) => frameBinary(encodeUnsubscribedMessage(replyTo, channel, reason)),
  refreshed: (replyTo, expiresAt) => frameBinary(encodeRefreshedMessage(replyTo, expiresAt)),
  pong: (replyTo) => frameBinary(encodePongMessage(replyTo)),
  error: (problem, message, replyTo, channel) => frameBinary(encodeErrorMessage(problem, message, replyTo, channel)),
  // A ClientCommand has no nesting to bound (no Struct); the strict wire pass caps it.
  decode: (data) => decodeClientCommand(data),
  // The ingest validated the envelope (numbers exact, keys unique, strings Unicode), so
  // JSON.parse gives back exactly what the producer sent. Once per event per node.
  eventPayload: (envelope) => bytes(encodeEventMessage(JSON.parse(envelope.toString('utf8')) as EventEnvelope)),
  frame: frameBinary,
  frameCompressed: frameCompressedBinary,
};
