/**
 * `v1.protobuf` (PROTOCOL.md section 9): commands as ClientCommand, server frames read
 * as their JSON twins (decodeServerMessage), so the rest of the client is the same for
 * both formats. Only the `@herald/client/protobuf` entry imports this module.
 */
import { PROTOBUF_SUBPROTOCOL } from '@herald/protocol';
import { decodeServerMessage, encodeClientCommand } from '@herald/protocol/protobuf';
import type { FrameCodec } from './codec.js';

export const protobufCodec: FrameCodec = {
  format: 'protobuf',
  subprotocol: PROTOBUF_SUBPROTOCOL,
  encode: (command) => encodeClientCommand(command),
  decode(data) {
    if (typeof data === 'string') throw new Error('The server sent a text frame on v1.protobuf');
    // ProtobufDecodeError says what is wrong; undefined is a frame kind this version does not know.
    return decodeServerMessage(data);
  },
};
