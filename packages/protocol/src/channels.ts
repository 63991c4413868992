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
