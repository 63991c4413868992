/**
 * Which client a request comes from, for the per-address handshake limit: the peer
 * address, or, when the peer is one of TRUSTED_PROXIES, the right-most address of
 * X-Forwarded-For that is not a trusted proxy. Addresses to the left of that one were
 * written by the client itself and prove nothing; the header of an untrusted peer is
 * ignored altogether, so nobody escapes the limit by inventing addresses.
 *
 * The result is a counting key: an IPv4 address, or the /64 of an IPv6 address (one
 * host commonly holds a whole /64, and would otherwise have 2^64 keys to rotate through).
 */
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';

/** X-Forwarded-For entries examined from the right: no real proxy chain is longer. */
const MAX_FORWARDED_HOPS = 16;

export class ClientAddresses {
  private readonly trusted: BlockList | undefined;

  /** `trustedProxies`: IP addresses and CIDR ranges (TRUSTED_PROXIES, already validated). */
  constructor(trustedProxies: readonly string[]) {
    if (trustedProxies.length === 0) return;
    this.trusted = new BlockList();
    for (const item of trustedProxies) {
      const slash = item.indexOf('/');
      const address = slash === -1 ? item : item.slice(0, slash);
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (slash === -1) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(item.slice(slash + 1)), family);
    }
  }

  /** The counting key of the client behind a request from `peer` carrying `forwardedFor`. */
  keyOf(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    return counterKey(this.clientOf(peer, forwardedFor));
  }

  /** The client address itself (no /64 grouping); `unknown` when the socket has none. */
  clientOf(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    let client = peer === undefined ? undefined : unmapped(peer);
    if (client === undefined || isIP(client) === 0) return 'unknown';
    if (this.trusted === undefined || forwardedFor === undefined || !this.isTrusted(client)) return client;
    const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    for (let i = entries.length - 1, hops = 0; i >= 0 && hops < MAX_FORWARDED_HOPS; i--, hops++) {
      const entry = forwardedAddress(entries[i]!);
      // A malformed entry breaks the chain: the last trusted hop is all that is known.
      if (entry === undefined) return client;
      client = entry;
      if (!this.isTrusted(entry)) return entry;
    }
    // Every hop examined is a trusted proxy: the furthest one stands for the client.
    return client;
  }

  private isTrusted(address: string): boolean {
    return this.trusted!.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  }
}

/** `::ffff:10.0.0.1` (a dual-stack socket's IPv4 peer) -> `10.0.0.1`. */
function unmapped(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

/** One X-Forwarded-For entry as an address: bare, `1.2.3.4:port` or `[v6]:port`; undefined when it is none. */
function forwardedAddress(raw: string): string | undefined {
  let text = raw.trim();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) return undefined;
    text = text.slice(1, end);
  } else if (/^[\d.]+:\d+$/.test(text)) {
    text = text.slice(0, text.indexOf(':'));
  }
  const address = unmapped(text);
  return isIP(address) === 0 ? undefined : address;
}

/** IPv4 as it is; IPv6 as its /64 (`2001:db8:1:2::/64`). */
export function counterKey(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, embedded IPv4 as two groups). */
function ipv6Groups(address: string): number[] {
  const zone = address.indexOf('%');
  const text = zone === -1 ? address : address.slice(0, zone);
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const gap = text.indexOf('::');
  if (gap === -1) return parse(text);
  const left = parse(text.slice(0, gap));
  const right = parse(text.slice(gap + 2));
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
