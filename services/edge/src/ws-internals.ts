/**
 * The parts of `ws` that @types/ws does not describe and that the edge relies on:
 * `Sender.frame` (frame once, write the bytes to many sockets) and the raw socket
 * under a WebSocket (so the same bytes are written without ws re-framing them).
 */
import type { Socket } from 'node:net';
import * as ws from 'ws';
import type { WebSocket } from 'ws';

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

interface SenderStatic {
  frame(data: Buffer | string, options: FrameOptions): Buffer[];
}

export const Sender = (ws as unknown as { Sender: SenderStatic }).Sender;

/** The TCP socket of an open WebSocket. */
export function rawSocket(socket: WebSocket): Socket {
  return (socket as unknown as { _socket: Socket })._socket;
}

interface DeflateParams {
  server_no_context_takeover?: boolean;
  server_max_window_bits?: number;
}

/**
 * Whether the connection negotiated permessage-deflate in a way that accepts frames
 * compressed once for everyone: the server resets its context per message (always
 * true with `serverNoContextTakeover`) and the client accepts the full 32 KiB window.
 */
export function acceptsSharedDeflate(socket: WebSocket): boolean {
  const extension = (socket as unknown as { _extensions: Record<string, { params?: DeflateParams } | undefined> })._extensions['permessage-deflate'];
  const params = extension?.params;
  if (!params || params.server_no_context_takeover !== true) return false;
  return params.server_max_window_bits === undefined || params.server_max_window_bits === 15;
}
