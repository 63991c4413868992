/**
 * Kinds of configuration values: each turns the text of an environment variable into
 * a typed value, or says in one phrase what it expected.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { formatDuration, formatSize, parseDuration, parseSize } from './units.js';

export type Service = 'edge' | 'ingest';

export interface VariableSpec<T> {
  /** Which services read it. */
  readonly services: readonly Service[];
  readonly description: string;
  /** The default as an operator would write it; undefined when there is none. */
  readonly default: string | undefined;
  /** Human name of the kind, for the docs table: `duration`, `size`, `integer`... */
  readonly kind: string;
  /** Never printed (keys, secrets). */
  readonly secret?: boolean;
  /** How a refused value is shown in the error line, when not as written (a URL's password masked). */
  display?(text: string): string;
  /** Parses a present value; returns an error phrase ("a duration such as 30s") on failure. */
  parse(text: string): { ok: true; value: T } | { ok: false; expected: string };
  /** The value when the variable is unset and has no default. */
  readonly absent: T;
}

interface Common {
  services: readonly Service[];
  description: string;
  secret?: boolean;
}

function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
function fail(expected: string): { ok: false; expected: string } {
  return { ok: false, expected };
}

export function integer(options: Common & { default?: number; min?: number; max?: number }): VariableSpec<number> {
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return {
    ...options,
    kind: 'integer',
    default: options.default === undefined ? undefined : String(options.default),
    absent: options.default ?? min,
    parse(text) {
      const value = Number(text.trim());
      if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
        return fail(max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
      }
      return ok(value);
    },
  };
}

/** A positive integer or `unlimited`; unlimited is `null`. */
export function limit(options: Common & { default?: number }): VariableSpec<number | null> {
  return {
    ...options,
    kind: 'integer or unlimited',
    default: options.default === undefined ? 'unlimited' : String(options.default),
    absent: options.default ?? null,
    parse(text) {
      const trimmed = text.trim().toLowerCase();
      if (trimmed === 'unlimited' || trimmed === '') return ok(null);
      if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1) return fail('a positive integer or "unlimited"');
      return ok(Number(trimmed));
    },
  };
}

/** A positive integer or `auto` (the number of CPU cores this process may use). */
export function workers(options: Common & { default: number; max: number }): VariableSpec<number> {
  return {
    ...options,
    kind: 'integer or auto',
    default: String(options.default),
    absent: options.default,
    parse(text) {
      const trimmed = text.trim().toLowerCase();
      if (trimmed === 'auto') return ok(Math.min(options.max, availableParallelism()));
      if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > options.max) return fail(`an integer from 1 to ${options.max}, or "auto"`);
      return ok(Number(trimmed));
    },
  };
}

export function port(options: Common & { default: number }): VariableSpec<number> {
  return { ...integer({ ...options, min: 0, max: 65_535 }), kind: 'port' };
}

export function duration(options: Common & { default?: string; min?: number }): VariableSpec<number> {
  const min = options.min ?? 1;
  const fallback = options.default === undefined ? min : parseDuration(options.default);
  if (fallback === undefined) throw new Error(`bad default duration ${options.default}`);
  return {
    ...options,
    kind: 'duration',
    default: options.default,
    absent: fallback,
    parse(text) {
      const value = parseDuration(text);
      if (value === undefined || value < min) return fail(`a duration of at least ${formatDuration(min)}, such as 500ms, 30s, 10m or 1h`);
      return ok(value);
    },
  };
}

/** A duration that may be unset (no limit): unset is `undefined`. */
export function optionalDuration(options: Common & { min?: number }): VariableSpec<number | undefined> {
  const min = options.min ?? 1;
  return {
    ...options,
    kind: 'duration',
    default: undefined,
    absent: undefined,
    parse(text) {
      if (text.trim() === '') return ok(undefined);
      const value = parseDuration(text);
      if (value === undefined || value < min) return fail(`a duration of at least ${formatDuration(min)}, such as 30s, 10m or 1h`);
      return ok(value);
    },
  };
}

/** A ratio above `min` (such as 1.2), or unset / `off`: `null`. */
export function optionalRatio(options: Common & { min: number; max: number }): VariableSpec<number | null> {
  const expected = `a number above ${options.min} and at most ${options.max} (such as 1.2), or "off"`;
  return {
    ...options,
    kind: 'ratio or off',
    default: 'off',
    absent: null,
    parse(text) {
      const trimmed = text.trim().toLowerCase();
      if (trimmed === '' || trimmed === 'off') return ok(null);
      if (!/^\d+(\.\d+)?$/.test(trimmed)) return fail(expected);
      const value = Number(trimmed);
      if (!(value > options.min && value <= options.max)) return fail(expected);
      return ok(value);
    },
  };
}

export function size(options: Common & { default: string; min?: number }): VariableSpec<number> {
  const min = options.min ?? 1;
  const fallback = parseSize(options.default);
  if (fallback === undefined) throw new Error(`bad default size ${options.default}`);
  return {
    ...options,
    kind: 'size',
    absent: fallback,
    parse(text) {
      const value = parseSize(text);
      if (value === undefined || value < min) return fail(`a size of at least ${formatSize(min)} bytes, such as 65536, 64KiB or 1MiB`);
      return ok(value);
    },
  };
}

export function boolean(options: Common & { default: boolean }): VariableSpec<boolean> {
  return {
    ...options,
    kind: 'boolean',
    default: String(options.default),
    absent: options.default,
    parse(text) {
      const value = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(value)) return ok(true);
      if (['false', '0', 'no', 'off'].includes(value)) return ok(false);
      return fail('true or false');
    },
  };
}

export function text(options: Common & { default?: string; pattern?: RegExp; expected?: string }): VariableSpec<string | undefined> {
  return {
    ...options,
    kind: 'string',
    default: options.default,
    absent: options.default,
    parse(raw) {
      if (raw.length === 0) return ok(options.default);
      if (options.pattern && !options.pattern.test(raw)) return fail(options.expected ?? `text matching ${options.pattern}`);
      return ok(raw);
    },
  };
}

/**
 * A Redis URL: `redis://` or `rediss://`, a host, an optional numeric port and an
 * optional database number, as ioredis reads it. Checked here so that a bad URL stops
 * the process with one line (exit 78) instead of a crash deep in the client, and shown
 * with its password masked.
 */
export function redisUrl(options: Common): VariableSpec<string | undefined> {
  const expected = 'a redis:// or rediss:// URL: redis://[[user]:password@]host[:port][/db]';
  return {
    ...options,
    kind: 'string',
    default: undefined,
    absent: undefined,
    display: maskUrlPassword,
    parse(raw) {
      if (raw.length === 0) return ok(undefined);
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return fail(expected);
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return fail(expected);
      if (url.hostname === '' || !/^(\/\d*)?$/.test(url.pathname) || url.hash !== '') return fail(expected);
      return ok(raw);
    },
  };
}

/** `scheme://user:***@host...`: the password of a URL-like text replaced, whether or not it parses. */
export function maskUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/** A comma-separated list; blank items are dropped. */
export function list(options: Common & { default?: string; item?: RegExp; expected?: string }): VariableSpec<string[]> {
  return {
    ...options,
    kind: 'list',
    default: options.default,
    absent: options.default ? splitList(options.default) : [],
    parse(raw) {
      const items = splitList(raw);
      if (options.item) for (const item of items) if (!options.item.test(item)) return fail(options.expected ?? `a comma-separated list matching ${options.item}`);
      return ok(items);
    },
  };
}

/**
 * A comma-separated list of IP addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`),
 * checked with node:net; the edge turns it into a BlockList.
 */
export function addressList(options: Common): VariableSpec<string[]> {
  return {
    ...options,
    kind: 'list',
    default: undefined,
    absent: [],
    parse(raw) {
      const items = splitList(raw);
      for (const item of items) if (!isAddressOrRange(item)) return fail(`a comma-separated list of IP addresses or CIDR ranges such as 10.0.0.0/8, and "${item.slice(0, 64)}" is neither`);
      return ok(items);
    },
  };
}

function isAddressOrRange(item: string): boolean {
  const slash = item.indexOf('/');
  if (slash === -1) return isIP(item) !== 0;
  const family = isIP(item.slice(0, slash));
  const prefix = item.slice(slash + 1);
  if (family === 0 || !/^(0|[1-9]\d{0,2})$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

export function oneOf<const T extends string>(options: Common & { default: T; values: readonly T[] }): VariableSpec<T> {
  return {
    ...options,
    kind: options.values.join(' | '),
    absent: options.default,
    parse(raw) {
      const value = raw.trim().toLowerCase() as T;
      return options.values.includes(value) ? ok(value) : fail(`one of ${options.values.join(', ')}`);
    },
  };
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
