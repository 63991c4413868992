/**
 * `@herald/protocol/protobuf`: the binary protocol (`v1.protobuf`, PROTOCOL.md section 9).
 * A separate entry from the package's main one, so JSON-only users (the browser SDK's
 * bundle among them) never load the protobuf runtime.
 *
 * Server side: `encodeEventMessage` once per event, the control-frame encoders, and
 * `decodeClientCommand` (the same result as the JSON `decodeCommand`).
 * Client side: `decodeServerMessage` (bytes to the JSON twin frame) and
 * `encodeClientCommand`.
 */
export { encodeEventMessage, type EventEnvelope } from './events.js';
export {
  encodeConnectedMessage,
  encodeErrorMessage,
  encodePongMessage,
  encodeRefreshedMessage,
  encodeSubscribedMessage,
  encodeUnsubscribedMessage,
} from './control-frames.js';
export { decodeServerMessage, ProtobufDecodeError, type ServerMessageOptions } from './server-frames.js';
export { decodeClientCommand, encodeClientCommand, type ClientCommandInput, type RefreshCommand } from './client-commands.js';
export { isoFromTimestamp, millisFromTimestamp, timestampFromIso, timestampFromMillis } from './timestamps.js';
export type { JsonObject, JsonValue } from './json.js';
