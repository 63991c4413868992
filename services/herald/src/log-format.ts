/**
 * LOG_FORMAT: whether a process's logs are pino-pretty lines or JSON records. `auto`
 * makes `herald start` on a terminal readable; services (and anything whose stdout is
 * a pipe or a file, where a collector parses lines) keep JSON unless told otherwise.
 */
import type { HeraldConfig } from '@herald/runtime';

export function prettyLogs(mode: 'start' | 'edge' | 'ingest', format: HeraldConfig['LOG_FORMAT'], stdout: { isTTY?: boolean } = process.stdout): boolean {
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  return mode === 'start' && stdout.isTTY === true;
}
