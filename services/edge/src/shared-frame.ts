/**
 * A control frame sent to many sessions at once (continuity-lost for every session of a
 * channel after a gap): built at most once per format, on first use.
 */
import { JSON_FORMAT } from './format-json.js';
import { PROTOBUF_FORMAT } from './format-protobuf.js';
import type { Recipient } from './recipient.js';
import type { WireFormat } from './wire-format.js';

export class SharedFrame {
  private json: Buffer | undefined = undefined;
  private protobuf: Buffer | undefined = undefined;

  constructor(private readonly build: (format: WireFormat) => Buffer) {}

  for(recipient: Recipient): Buffer {
    // Two formats; a recipient that is not protobuf speaks JSON, the default.
    if (recipient.format === PROTOBUF_FORMAT) return (this.protobuf ??= this.build(PROTOBUF_FORMAT));
    return (this.json ??= this.build(JSON_FORMAT));
  }
}
