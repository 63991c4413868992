/**
 * google.protobuf.Timestamp at millisecond precision, the precision of every JSON
 * timestamp (ISO 8601 UTC with milliseconds).
 *
 * Written by hand rather than with the runtime's timestampFromMs / timestampMs: those
 * round sub-millisecond nanos up (a time 0.9 ms before a second boundary would print
 * as the next second), while `Date` and ISO strings truncate.
 */
import { create } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';

const NANOS_PER_MS = 1_000_000;

export function timestampFromMillis(ms: number): Timestamp {
  if (!Number.isSafeInteger(ms)) throw new RangeError(`Timestamp must be a whole number of milliseconds (got ${ms})`);
  // floor, so a time before 1970 still has nanos in [0, 1e9), as the type requires.
  const seconds = Math.floor(ms / 1000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * NANOS_PER_MS });
}

/** An ISO 8601 string (the envelope's `timestamp`) as a Timestamp; throws RangeError when it does not parse. */
export function timestampFromIso(iso: string): Timestamp {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`Timestamp is not an ISO 8601 date-time: "${iso.slice(0, 64)}"`);
  return timestampFromMillis(ms);
}

/** Milliseconds since the epoch; nanos below a millisecond are dropped, as `Date` would. */
export function millisFromTimestamp(timestamp: Timestamp): number {
  const { seconds, nanos } = timestamp;
  if (!Number.isInteger(nanos) || nanos < 0 || nanos >= 1_000_000_000) {
    throw new RangeError(`Timestamp nanos must be in [0, 999999999] (got ${nanos})`);
  }
  return Number(seconds) * 1000 + Math.floor(nanos / NANOS_PER_MS);
}

/**
 * The JSON spelling: `2026-11-21T10:00:00.123Z`. Throws RangeError outside what `Date`
 * holds (+-8.64e15 ms), which no Herald timestamp comes near.
 */
export function isoFromTimestamp(timestamp: Timestamp): string {
  return new Date(millisFromTimestamp(timestamp)).toISOString();
}
