/**
 * Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384.
 * The engine needs slots to group SSUBSCRIBE calls (one slot per call) and to split a
 * publish batch into one pipeline per node; ioredis computes the same thing inside
 * but does not export it.
 */

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

export const SLOT_COUNT = 16384;

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** The slot of a key, following Redis's hash tag rule: the first non-empty `{...}`. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b /* { */);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d /* } */, open + 1);
    // `{}` (empty tag) means no tag: the whole key is hashed.
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  return crc16(bytes, start, end) % SLOT_COUNT;
}
