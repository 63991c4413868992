/**
 * Sequence positions. A `seq` is opaque to clients; inside Herald it has the shape of
 * a Redis stream id, `<milliseconds>-<counter>`, and orders numerically by both parts.
 */

const SEQ_PATTERN = /^(\d{1,16})-(\d{1,16})$/;

export function isValidSeq(value: unknown): value is string {
  return typeof value === 'string' && SEQ_PATTERN.test(value);
}

/** Orders two well-formed seqs: negative when a < b, 0 when equal, positive when a > b. */
export function compareSeq(a: string, b: string): number {
  if (a === b) return 0;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const msA = Number(a.slice(0, da));
  const msB = Number(b.slice(0, db));
  if (msA !== msB) return msA < msB ? -1 : 1;
  const nA = Number(a.slice(da + 1));
  const nB = Number(b.slice(db + 1));
  return nA === nB ? 0 : nA < nB ? -1 : 1;
}

/** The seq that sorts before every real seq. */
export const ZERO_SEQ = '0-0';
