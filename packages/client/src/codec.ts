/**
 * How frames are written and read on one subprotocol. The client speaks one format per
 * client (`format` option); everything above this (commands, routing, subscriptions,
 * reconnects) works on the JSON shape of frames whatever the wire carries.
 *
 * The JSON codec is built in. The protobuf one lives in its own module, loaded only
 * through the `@herald/client/protobuf` entry, so JSON users never load its runtime.
 */
import { SUBPROTOCOL, type Command } from '@herald/protocol';

export type ClientFormat = 'json' | 'protobuf';

export interface FrameCodec {
  readonly format: ClientFormat;
  /** The `Sec-WebSocket-Protocol` the client offers. */
  readonly subprotocol: string;
  /** A command as one frame: text for JSON, bytes for protobuf. */
  encode(command: Command): string | Uint8Array;
  /**
   * One frame from the server as its JSON-shaped object, or undefined for a frame to
   * ignore. Throws an Error saying what is wrong with a malformed frame.
   */
  decode(data: string | Uint8Array): unknown;
}

export const jsonCodec: FrameCodec = {
  format: 'json',
  subprotocol: SUBPROTOCOL,
  encode: (command) => JSON.stringify(command),
  decode(data) {
    // v1.json never carries binary data: such a frame is ignored, as it always was.
    if (typeof data !== 'string') return undefined;
    try {
      return JSON.parse(data) as unknown;
    } catch {
      throw new Error('The server sent a frame that is not JSON');
    }
  },
};

/** The codec for `format`, among those the entry provides. */
export function codecFor(format: ClientFormat, available: readonly FrameCodec[]): FrameCodec {
  const codec = available.find((candidate) => candidate.format === format);
  if (codec !== undefined) return codec;
  // The main entries carry JSON only, so that JSON users never load another runtime.
  throw new TypeError(`format '${format}' needs HeraldClient from '@herald/client/${format}'`);
}
