/**
 * A strict pass over protobuf bytes from a client, before the runtime decodes them.
 *
 * The runtime decoder is lenient, as protobuf decoders are meant to be: it skips
 * unknown fields (recursing into groups to do so), reads a known field whatever its
 * wire type, and lets a nested message run past its parent. For input from the
 * network that the contract calls bad (unknown fields, malformed bytes), this pass
 * names the first problem instead, walking the bytes against the message descriptor:
 * - every field number is one the schema has, with the wire type its type uses;
 * - every varint ends within 10 bytes, every length fits in what is left of the
 *   enclosing message (a 10 MB length in a 100-byte frame is refused before anything
 *   is allocated);
 * - strings are valid UTF-8;
 * - nested messages go no deeper than `maxDepth`.
 * Groups are never valid (proto3 has none). Only singular scalar, enum and message
 * fields are supported, which is all ClientCommand uses; a schema with lists or maps
 * fails the pass rather than being half-checked.
 */
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'group start', 'group end', '32-bit', 'invalid (6)', 'invalid (7)'];

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Thrown inside the pass only; `checkWire` turns it into its result. */
class WireProblem extends Error {}

function wireTypeOf(field: DescField): WireType | undefined {
  switch (field.fieldKind) {
    case 'message':
      return field.delimitedEncoding ? undefined : WireType.LengthDelimited;
    case 'enum':
      return WireType.Varint;
    case 'scalar':
      switch (field.scalar) {
        case ScalarType.STRING:
        case ScalarType.BYTES:
          return WireType.LengthDelimited;
        case ScalarType.DOUBLE:
        case ScalarType.FIXED64:
        case ScalarType.SFIXED64:
          return WireType.Bit64;
        case ScalarType.FLOAT:
        case ScalarType.FIXED32:
        case ScalarType.SFIXED32:
          return WireType.Bit32;
        default:
          return WireType.Varint;
      }
    default:
      return undefined;
  }
}

const fieldsByNumber = new WeakMap<DescMessage, ReadonlyMap<number, DescField>>();

function fieldMap(desc: DescMessage): ReadonlyMap<number, DescField> {
  let map = fieldsByNumber.get(desc);
  if (map === undefined) {
    map = new Map(desc.fields.map((field) => [field.number, field]));
    fieldsByNumber.set(desc, map);
  }
  return map;
}

class Cursor {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  /** A varint as a number (exact up to 2^53); at most 10 bytes, within `end`. */
  varint(end: number, what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new WireProblem(`${what} is cut off at byte ${this.pos}`);
      const byte = this.bytes[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new WireProblem(`${what} is a varint longer than 10 bytes`);
  }
}

function checkMessage(cursor: Cursor, desc: DescMessage, end: number, depth: number, maxDepth: number): void {
  if (depth > maxDepth) throw new WireProblem(`${desc.name} nests deeper than ${maxDepth} messages`);
  const fields = fieldMap(desc);
  while (cursor.pos < end) {
    const at = cursor.pos;
    const tag = cursor.varint(end, 'A field tag');
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (number === 0 || tag > 0xffff_ffff) throw new WireProblem(`Invalid field tag at byte ${at}`);
    const field = fields.get(number);
    if (field === undefined) throw new WireProblem(`${desc.name} has no field ${number} (unknown field at byte ${at})`);
    const expected = wireTypeOf(field);
    if (expected === undefined) throw new WireProblem(`${desc.name}.${field.name} is a kind of field the strict reader does not check`);
    if (wireType !== expected) {
      throw new WireProblem(`${desc.name}.${field.name} (field ${number}) has wire type ${WIRE_NAMES[wireType]}, expected ${WIRE_NAMES[expected]}`);
    }
    switch (wireType) {
      case WireType.Varint:
        cursor.varint(end, `${desc.name}.${field.name}`);
        break;
      case WireType.Bit64:
      case WireType.Bit32: {
        const size = wireType === WireType.Bit64 ? 8 : 4;
        if (cursor.pos + size > end) throw new WireProblem(`${desc.name}.${field.name} is cut off at byte ${cursor.pos}`);
        cursor.pos += size;
        break;
      }
      case WireType.LengthDelimited: {
        const length = cursor.varint(end, `The length of ${desc.name}.${field.name}`);
        const left = end - cursor.pos;
        if (length > left) {
          throw new WireProblem(`${desc.name}.${field.name} claims ${length} bytes where ${left} are left`);
        }
        const stop = cursor.pos + length;
        if (field.fieldKind === 'message') {
          checkMessage(cursor, field.message, stop, depth + 1, maxDepth);
        } else if (field.fieldKind === 'scalar' && field.scalar === ScalarType.STRING) {
          try {
            strictUtf8.decode(cursor.bytes.subarray(cursor.pos, stop));
          } catch {
            throw new WireProblem(`${desc.name}.${field.name} is not valid UTF-8`);
          }
        }
        cursor.pos = stop;
        break;
      }
    }
  }
}

/**
 * Undefined when `bytes` is a well-formed `desc` with only known fields, else what is
 * wrong with it, in a sentence. Never throws.
 */
export function checkWire(desc: DescMessage, bytes: Uint8Array, maxDepth = 8): string | undefined {
  try {
    checkMessage(new Cursor(bytes), desc, bytes.length, 1, maxDepth);
    return undefined;
  } catch (error) {
    if (error instanceof WireProblem) return error.message;
    return `Unreadable protobuf: ${error instanceof Error ? error.message : String(error)}`;
  }
}
