/**
 * Who may receive a channel: the token's `channels` grants, except for Herald's own
 * channels (`_herald:*`, the console's stats), which only a token with the scope
 * `admin` may subscribe to, whatever its grants say. A `*` grant is common for
 * back-office tokens; it must not expose every node's internals.
 */
import { isSystemChannel } from '@herald/protocol';
import type { Identity } from './auth.js';

export function mayReceive(identity: Identity, channel: string): boolean {
  return isSystemChannel(channel) ? identity.admin : identity.grants.allows(channel);
}

/** The `forbidden` error's message: for a system channel it says what is missing. */
export function forbiddenMessage(channel: string): string {
  return isSystemChannel(channel) ? `Not allowed to subscribe to ${channel}: it needs a token with the scope admin` : `Not allowed to subscribe to ${channel}`;
}
