/**
 * Channel names and grants (PROTOCOL.md section 4).
 */

export const MAX_CHANNEL_LENGTH = 200;
const CHANNEL_PATTERN = /^[A-Za-z0-9_-]+(:[A-Za-z0-9_.-]+)*$/;

/** A value that may be substituted into a channel segment by routing: no `:` allowed. */
export const CHANNEL_SEGMENT_PATTERN = /^[A-Za-z0-9_.-]+$/;

export function isValidChannel(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_PATTERN.test(name);
}

/**
 * Channels Herald itself publishes on (the console's node stats). They match the
 * channel pattern, so no special case reaches the codec or the broker, but no
 * `channels` grant opens them, not even `*`: only a token with the scope `admin` may
 * subscribe (the edge checks, see its channel-access.ts), and the ingest never routes
 * an event to them (routes.ts refuses such a template and such a rendered channel).
 */
export const SYSTEM_CHANNEL_PREFIX = '_herald:';

/** Every edge node publishes its stats here about once a second. */
export const STATS_CHANNEL = '_herald:stats';

export function isSystemChannel(name: string): boolean {
  return name.startsWith(SYSTEM_CHANNEL_PREFIX);
}

/**
 * The grants of one token, compiled once at the handshake: exact names in a set,
 * `prefix*` patterns as a list of prefixes.
 */
export class Grants {
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];

  constructor(patterns: readonly string[]) {
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const pattern of patterns) {
      if (pattern.endsWith('*')) prefixes.push(pattern.slice(0, -1));
      else exact.add(pattern);
    }
    this.exact = exact;
    this.prefixes = prefixes;
  }

  allows(channel: string): boolean {
    if (this.exact.has(channel)) return true;
    for (const prefix of this.prefixes) if (channel.startsWith(prefix)) return true;
    return false;
  }

  get size(): number {
    return this.exact.size + this.prefixes.length;
  }
}

/** Checks the shape of a `channels` claim: an array of strings. */
export function parseGrantClaim(claim: unknown): string[] | undefined {
  if (claim === undefined) return [];
  if (!Array.isArray(claim)) return undefined;
  for (const item of claim) if (typeof item !== 'string') return undefined;
  return claim as string[];
}
