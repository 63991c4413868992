/**
 * NDJSON input of `herald publish`: one event object per line, read as a stream (a
 * file of a million events is never held whole) and cut into batches the ingest
 * accepts: at most MAX_BATCH_EVENTS events and MAX_BODY_BYTES of body each. A line
 * that is not a JSON object is reported with its number and sent nowhere.
 */
import { createInterface } from 'node:readline';
import { MAX_BATCH_EVENTS, MAX_BODY_BYTES } from '@herald/ingest';

export interface InputEvent {
  /** 1-based line number in the input. */
  line: number;
  /** The line as given (JSON text of an object): sent as it is, so no value is re-encoded. */
  text: string;
  /** The event's `id`, when it has one (for failure lines). */
  id?: string;
}

export interface BadLine {
  line: number;
  reason: string;
}

export type InputItem = { batch: InputEvent[] } | { bad: BadLine };

/** `{"events":[` + `]}`. */
const ENVELOPE_BYTES = 13;

/** Batches of events and bad lines, in input order. */
export async function* readBatches(input: NodeJS.ReadableStream, limits = { events: MAX_BATCH_EVENTS, bytes: MAX_BODY_BYTES }): AsyncGenerator<InputItem> {
  let batch: InputEvent[] = [];
  let bytes = ENVELOPE_BYTES;
  let line = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    const text = raw.trim();
    if (text === '') continue;
    const parsed = parseLine(text);
    if (typeof parsed === 'string') {
      yield { bad: { line, reason: parsed } };
      continue;
    }
    const size = Buffer.byteLength(text) + 1;
    if (batch.length > 0 && (batch.length >= limits.events || bytes + size > limits.bytes)) {
      yield { batch };
      batch = [];
      bytes = ENVELOPE_BYTES;
    }
    const id = (parsed as { id?: unknown }).id;
    batch.push({ line, text, ...(typeof id === 'string' ? { id } : {}) });
    bytes += size;
  }
  if (batch.length > 0) yield { batch };
}

/** The parsed object, or why the line is not an event object. */
function parseLine(text: string): object | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object (one event object per line)';
  return value;
}
