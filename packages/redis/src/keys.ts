/**
 * Every Redis key and channel Herald uses, in one place. Each starts with the prefix
 * (REDIS_KEY_PREFIX, default `herald`), so several Herald installations can share a
 * Redis. Keys that a script touches together share a hash tag, so in a cluster they sit
 * in one slot and the script may touch them in one atomic step:
 *
 * Channels (broker), hash tag = the channel:
 *   <prefix>:{<channel>}:s        stream: one entry per publication, id = seq, field e = envelope
 *   <prefix>:{<channel>}:m        hash: top (newest seq), floor (history is complete after it),
 *                                 age and fresh (when to look for aged entries, refresh expiries)
 *   <prefix>:{<channel>}:d:<key>  string: the seq first published under an idempotency key
 *   <prefix>:{<channel>}          pub/sub channel (PUBLISH, or SPUBLISH on a cluster):
 *                                 payload "<seq> <envelope>"
 * Events (broker), no tag (one key per command):
 *   <prefix>:idem:<event id>      string: an event's channels (JSON) once published by
 *                                 publishEvents, 'p' while the cluster path publishes it
 * Connection counts (admission), hash tag = `<prefix>:admission`:
 *   {<prefix>:admission}:nodes      zset: node id -> lease expiry (ms)
 *   {<prefix>:admission}:total      string: connections counted cluster-wide
 *   {<prefix>:admission}:users      hash: user -> connections cluster-wide
 *   {<prefix>:admission}:node:<id>  hash: `total` and `u:<user>` -> that node's share
 * Revocations (admission), no tag (one key per command):
 *   <prefix>:revoked:<sub>        string: epoch ms before which the sub's tokens are refused;
 *                                 expires REVOCATION_TTL after the (latest) revocation
 *   <prefix>:revocations          pub/sub channel (PUBLISH, or SPUBLISH on a cluster): one
 *                                 JSON revocation {sub, before, until} per message
 * Ingest stream (ingest), no tag (one key per command):
 *   <prefix>:ingest               stream: producers XADD `event <json>`; consumer group
 *                                 `herald-ingest`
 *   <prefix>:ingest:dead          stream: entries refused, with the problem and reason
 *
 * The names are a contract with operators and producers (the ingest stream), so they
 * never change; a new key is added here and to docs/operations.md.
 */
import { keySlot } from './slot.js';

export const DEFAULT_KEY_PREFIX = 'herald';

/** The consumer group of every ingest process on the ingest stream. */
export const INGEST_CONSUMER_GROUP = 'herald-ingest';

/** The admission keys of one node. */
export interface AdmissionKeys {
  readonly nodes: string;
  readonly total: string;
  readonly users: string;
  /** This node's share. */
  readonly node: string;
  /** Prefix of every node's share key: the scripts reap a dead node by its id. */
  readonly nodePrefix: string;
}

export class KeyLayout {
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    // A brace in the prefix would move the hash tag off the channel, splitting a
    // channel's keys over slots; whitespace and control characters make keys
    // hard to handle in redis-cli.
    if (!/^[\x21-\x7a\x7c\x7e]+$/.test(prefix)) {
      throw new TypeError(`invalid Redis key prefix ${JSON.stringify(prefix)}: printable ASCII without braces or spaces`);
    }
  }

  // Channels ------------------------------------------------------------------------

  stream(channel: string): string {
    return `${this.prefix}:{${channel}}:s`;
  }

  meta(channel: string): string {
    return `${this.prefix}:{${channel}}:m`;
  }

  dedupe(channel: string, idempotencyKey: string): string {
    return `${this.prefix}:{${channel}}:d:${idempotencyKey}`;
  }

  pubsub(channel: string): string {
    return `${this.prefix}:{${channel}}`;
  }

  /** The cluster slot of every key of the channel. */
  slot(channel: string): number {
    return keySlot(`{${channel}}`);
  }

  // Events --------------------------------------------------------------------------

  event(id: string): string {
    return `${this.prefix}:idem:${id}`;
  }

  // Admission -----------------------------------------------------------------------

  admission(nodeId: string): AdmissionKeys {
    const tag = `{${this.prefix}:admission}`;
    return { nodes: `${tag}:nodes`, total: `${tag}:total`, users: `${tag}:users`, node: `${tag}:node:${nodeId}`, nodePrefix: `${tag}:node:` };
  }

  // Revocations ---------------------------------------------------------------------

  /** A `sub` is any string: the key is binary-safe, and being alone in its command, its slot does not matter. */
  revocation(user: string): string {
    return `${this.prefix}:revoked:${user}`;
  }

  get revocationsChannel(): string {
    return `${this.prefix}:revocations`;
  }

  // Ingest stream -------------------------------------------------------------------

  get ingestStream(): string {
    return `${this.prefix}:ingest`;
  }

  get ingestDeadLetter(): string {
    return `${this.prefix}:ingest:dead`;
  }

  /** Pattern matching every channel key of this prefix (for SCAN in tests and tools). */
  get pattern(): string {
    return `${this.prefix}:{*`;
  }
}
