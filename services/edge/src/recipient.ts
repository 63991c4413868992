/**
 * What the hub knows of a session: where its frames go and which frames fit it. The
 * hub never reaches the session itself (its commands, limits or socket).
 */
import type { Queued } from './outbox.js';
import type { WireFormat } from './wire-format.js';

export interface Recipient extends Queued {
  /** The negotiated subprotocol's format: which of a publication's frames it gets. */
  readonly format: WireFormat;
  /** Negotiated permessage-deflate so that frames compressed once per node fit it. */
  readonly deflate: boolean;
}

/** Where the hub queues frames: the outbox, seen through what the hub needs of it. */
export interface FrameSink {
  enqueue(target: Recipient, frame: Buffer): void;
}
