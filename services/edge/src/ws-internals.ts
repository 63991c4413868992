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
