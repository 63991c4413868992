/**
 * permessage-deflate that scales (RFC 7692): an event is compressed once per node, with
 * no context carried between messages, and the same compressed frame is written to every
 * connection that negotiated the extension. ws's own per-connection compression keeps a
 * deflate context (about 200 KiB) per connection; this keeps none.
 */
import { constants, deflateRawSync } from 'node:zlib';
import { Sender } from './ws-internals.js';

const SYNC_FLUSH = { finishFlush: constants.Z_SYNC_FLUSH };
const COMPRESSED_TEXT = { fin: true, opcode: 0x1, mask: false, readOnly: false, rsv1: true };
const COMPRESSED_BINARY = { fin: true, opcode: 0x2, mask: false, readOnly: false, rsv1: true };
const TAIL_LENGTH = 4; // 0x00 0x00 0xff 0xff, removed per RFC 7692 section 7.2.1

/** The payload deflated as one message, without the sync-flush tail. */
export function deflateMessage(payload: Buffer): Buffer {
  const deflated = deflateRawSync(payload, SYNC_FLUSH);
  return deflated.subarray(0, deflated.length - TAIL_LENGTH);
}

/** A complete compressed text frame (RSV1 set) of the payload. */
export function frameCompressedText(payload: Buffer): Buffer {
  const parts = Sender.frame(deflateMessage(payload), COMPRESSED_TEXT);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** A complete compressed binary frame (RSV1 set) of the payload (`v1.protobuf`). */
export function frameCompressedBinary(payload: Buffer): Buffer {
  const parts = Sender.frame(deflateMessage(payload), COMPRESSED_BINARY);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
