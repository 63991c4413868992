/**
 * The key layout of the Redis engines. Every key of a channel carries the channel as
 * its hash tag, so in a cluster the channel's stream, meta hash, dedupe keys and shard
 * pub/sub channel all live in one slot, and the publish script may touch them in one
 * atomic step:
 *
 *   <prefix>:{<channel>}:s        stream: one entry per publication, id = seq, field e = envelope
 *   <prefix>:{<channel>}:m        hash: top (newest seq), floor (history is complete after it)
 *   <prefix>:{<channel>}:d:<key>  string: the seq first published under an idempotency key
 *   <prefix>:{<channel>}          pub/sub channel: payload "<seq> <envelope>"
 *   <prefix>:idem:<event id>      string: an event's channels (JSON) once published by
 *                                 publishEvents, 'p' while the cluster path publishes it
 */
import { keySlot } from './slot.js';

export const DEFAULT_KEY_PREFIX = 'herald';

export class KeyLayout {
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    // A brace in the prefix would move the hash tag off the channel, splitting a
    // channel's keys over slots; whitespace and control characters make keys
    // hard to handle in redis-cli.
    if (!/^[\x21-\x7a\x7c\x7e]+$/.test(prefix)) {
      throw new TypeError(`invalid Redis key prefix ${JSON.stringify(prefix)}: printable ASCII without braces or spaces`);
    }
  }

  stream(channel: string): string {
    return `${this.prefix}:{${channel}}:s`;
  }

  meta(channel: string): string {
    return `${this.prefix}:{${channel}}:m`;
  }

  dedupe(channel: string, idempotencyKey: string): string {
    return `${this.prefix}:{${channel}}:d:${idempotencyKey}`;
  }

  event(id: string): string {
    return `${this.prefix}:idem:${id}`;
  }

  pubsub(channel: string): string {
    return `${this.prefix}:{${channel}}`;
  }

  /** The cluster slot of every key of the channel. */
  slot(channel: string): number {
    return keySlot(`{${channel}}`);
  }

  /** Pattern matching every key of this prefix (for SCAN in tests and tools). */
  get pattern(): string {
    return `${this.prefix}:{*`;
  }
}
