/**
 * Subprotocol negotiation (PROTOCOL.md section 2.4): the first protocol in the client's
 * list that the server speaks; no header at all means `v1.json`.
 */
import { JSON_FORMAT } from './format-json.js';
import { PROTOBUF_FORMAT } from './format-protobuf.js';
import type { WireFormat } from './wire-format.js';

const FORMATS: readonly WireFormat[] = [JSON_FORMAT, PROTOBUF_FORMAT];

/** Every subprotocol this server speaks, for messages. */
export const SPOKEN_SUBPROTOCOLS: readonly string[] = FORMATS.map((format) => format.subprotocol);

/** The format of the first offered protocol the server speaks (offers in the client's order), if any. */
export function negotiateFormat(offered: Iterable<string>): WireFormat | undefined {
  for (const protocol of offered) {
    // Exact match: subprotocol tokens are case-sensitive (RFC 6455 section 4.1).
    const format = FORMATS.find((candidate) => candidate.subprotocol === protocol);
    if (format !== undefined) return format;
  }
  return undefined;
}

/** Sessions that offered no subprotocol speak JSON. */
export const DEFAULT_FORMAT: WireFormat = JSON_FORMAT;
