/**
 * One publication's frames on this node. Each frame is made the first time a recipient
 * needs it and then shared by every recipient it fits: at most one JSON text frame and
 * one protobuf binary frame per event, and, for connections that negotiated
 * permessage-deflate and payloads over the threshold, one compressed frame of each. A
 * format that no recipient of the channel speaks costs nothing; picking a recipient's
 * frame allocates nothing.
 */
import { JSON_FORMAT } from './format-json.js';
import { PROTOBUF_FORMAT } from './format-protobuf.js';
import type { Recipient } from './recipient.js';
import type { WireFormat } from './wire-format.js';

/** Event frames made, by kind: plain numbers, read by the metrics at scrape time. */
export interface FramesMade {
  json: number;
  jsonDeflate: number;
  protobuf: number;
  protobufDeflate: number;
}

export interface EventFramesContext {
  /** Payloads at least this long also get a compressed frame (Infinity: never). */
  readonly compressionThreshold: number;
  readonly made: FramesMade;
  /**
   * The frame to send instead of an event whose payload the format cannot encode (an
   * envelope the ingest never lets through); called once per event and format.
   */
  unencodable(format: WireFormat, frames: EventFrames, error: unknown): Buffer;
}

export class EventFrames {
  private jsonPlain: Buffer | undefined = undefined;
  /** null: not compressed (below the threshold). */
  private jsonDeflated: Buffer | null | undefined = undefined;
  /** null: the event could not be encoded; `protobufPlain` holds what is sent instead. */
  private protobufPayload: Buffer | null | undefined = undefined;
  private protobufPlain: Buffer | undefined = undefined;
  private protobufDeflated: Buffer | null | undefined = undefined;

  constructor(
    readonly channel: string,
    readonly seq: string,
    /** The JSON envelope as the broker carries it. */
    readonly envelope: Buffer,
    private readonly context: EventFramesContext,
  ) {}

  /** The recipient's frame: its format, compressed when it negotiated deflate and the event is long enough. */
  for(recipient: Recipient): Buffer {
    // Two formats; a recipient that is not protobuf speaks JSON, the default.
    if (recipient.format === PROTOBUF_FORMAT) return recipient.deflate ? this.protobufCompressed() : this.protobuf();
    return recipient.deflate ? this.jsonCompressed() : this.json();
  }

  /** The recipient's frame, uncompressed (recovery and buffered frames are sent plain). */
  plainFor(recipient: Recipient): Buffer {
    return recipient.format === PROTOBUF_FORMAT ? this.protobuf() : this.json();
  }

  private json(): Buffer {
    if (this.jsonPlain === undefined) {
      this.jsonPlain = JSON_FORMAT.frame(this.envelope);
      this.context.made.json += 1;
    }
    return this.jsonPlain;
  }

  private jsonCompressed(): Buffer {
    if (this.jsonDeflated === undefined) {
      this.jsonDeflated = this.envelope.length >= this.context.compressionThreshold ? JSON_FORMAT.frameCompressed(this.envelope) : null;
      if (this.jsonDeflated !== null) this.context.made.jsonDeflate += 1;
    }
    return this.jsonDeflated ?? this.json();
  }

  private payload(): Buffer | null {
    if (this.protobufPayload === undefined) {
      try {
        this.protobufPayload = PROTOBUF_FORMAT.eventPayload(this.envelope);
      } catch (error) {
        this.protobufPayload = null;
        this.protobufPlain = this.context.unencodable(PROTOBUF_FORMAT, this, error);
      }
    }
    return this.protobufPayload;
  }

  private protobuf(): Buffer {
    if (this.protobufPlain === undefined) {
      const payload = this.payload();
      if (payload !== null) {
        this.protobufPlain = PROTOBUF_FORMAT.frame(payload);
        this.context.made.protobuf += 1;
      }
    }
    return this.protobufPlain!;
  }

  private protobufCompressed(): Buffer {
    if (this.protobufDeflated === undefined) {
      const payload = this.payload();
      this.protobufDeflated = payload !== null && payload.length >= this.context.compressionThreshold ? PROTOBUF_FORMAT.frameCompressed(payload) : null;
      if (this.protobufDeflated !== null) this.context.made.protobufDeflate += 1;
    }
    return this.protobufDeflated ?? this.protobuf();
  }
}
