/**
 * How `herald tail` prints an event: `json`, the envelope exactly as the edge sent it
 * (one line, for jq and for piping into another tool), or `pretty` for a person at a
 * terminal: local time, channel, seq, type, id, then the data on one line.
 */
import type { HeraldEvent } from '@herald/client';

export type TailOutput = 'pretty' | 'json';

export const TAIL_OUTPUTS: readonly TailOutput[] = ['pretty', 'json'];

/** `raw` is the text frame the event came in, when the transport saw one. */
export function formatEvent(event: HeraldEvent, output: TailOutput, raw?: string): string {
  if (output === 'json') return raw ?? JSON.stringify(event);
  return [clock(event.timestamp), event.channel, event.seq, event.type, event.id, JSON.stringify(event.data)].join('  ');
}

/** HH:MM:SS.mmm in local time; the timestamp as given when it does not parse. */
function clock(timestamp: string): string {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
