import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** NODE_ID default: the hostname plus a random suffix, unique across restarts. */
export function defaultNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 48) || 'node';
  return `${host}-${randomBytes(3).toString('hex')}`;
}
