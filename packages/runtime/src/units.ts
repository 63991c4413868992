/**
 * Parsers for the value syntaxes of configuration: durations (`500ms`, `30s`, `10m`,
 * `1h`, `1d`) and byte sizes (`65536`, `64KiB`, `1MiB`, `1MB`).
 *
 * Written here rather than taken from `ms` and `bytes`: a configuration value must be
 * refused when it is not exactly one of these forms, and both libraries are lenient in
 * ways that would carry a mistake into production (`ms` reads `10` as 10 ms, `1 year`,
 * `5 minutes`, `-1s`; `bytes` reads `1KB` as 1,024 bytes, so `64KiB` and `64KB` would
 * be the same). A bare number is a size in bytes but never a duration, whose unit is
 * always written. The forms are documented beside every variable (docs/operations.md).
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * DURATION_MS[match[2]!]!;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i;
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  kb: 1_000,
  kib: 1_024,
  mb: 1_000_000,
  mib: 1_048_576,
  gb: 1_000_000_000,
  gib: 1_073_741_824,
};

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * SIZE_BYTES[(match[2] ?? 'b').toLowerCase()]!;
  return Number.isSafeInteger(Math.round(value)) ? Math.round(value) : undefined;
}

export function formatSize(bytes: number): string {
  if (bytes >= 1_048_576 && bytes % 1_048_576 === 0) return `${bytes / 1_048_576}MiB`;
  if (bytes >= 1_024 && bytes % 1_024 === 0) return `${bytes / 1_024}KiB`;
  return String(bytes);
}
