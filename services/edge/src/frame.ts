/**
 * Framing once per node: an event (or any server frame) becomes one Buffer holding
 * the WebSocket frame header and payload, written as is to every subscriber.
 */
import { Sender } from './ws-internals.js';

const TEXT = { fin: true, opcode: 0x1, mask: false, readOnly: false, rsv1: false };
const BINARY = { fin: true, opcode: 0x2, mask: false, readOnly: false, rsv1: false };
const PING = { fin: true, opcode: 0x9, mask: false, readOnly: false, rsv1: false };

function merge(parts: Buffer[]): Buffer {
  // One buffer per frame: a later write per socket is one chunk, not two.
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** A complete unmasked text frame. */
export function frameText(payload: Buffer | string): Buffer {
  return merge(Sender.frame(typeof payload === 'string' ? Buffer.from(payload) : payload, TEXT));
}

/** A complete unmasked binary frame (the `v1.protobuf` subprotocol). */
export function frameBinary(payload: Uint8Array): Buffer {
  // A view on the same memory, not a copy: Sender.frame reads it once, into the frame.
  return merge(Sender.frame(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), BINARY));
}

/** A protocol ping, the same bytes for every connection. */
export const PING_FRAME: Buffer = merge(Sender.frame(Buffer.alloc(0), PING));
