/**
 * Hand-made protobuf bytes for the tests that must send what no encoder would: the
 * wire format (varints, tags, length prefixes) written out by hand, independent of the
 * project's codec.
 */

export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, StartGroup: 3, EndGroup: 4, Fixed32: 5 } as const;

export function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

export function tag(field: number, wireType: number): Buffer {
  return varint(field * 8 + wireType);
}

/** A length-delimited field: tag, length, bytes. */
export function lengthDelimited(field: number, content: Buffer | string): Buffer {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return Buffer.concat([tag(field, WireType.LengthDelimited), varint(bytes.length), bytes]);
}

/** ClientCommand field numbers (websocket.proto): type 1, id 2, subscribe 3, unsubscribe 4, refresh 5. */
export const ClientCommandField = { type: 1, id: 2, subscribe: 3, unsubscribe: 4, refresh: 5 } as const;
