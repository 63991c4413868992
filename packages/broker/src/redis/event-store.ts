/**
 * `publishEvents` on Redis: each event published to all of its channels once per
 * event id within eventTtlMs.
 *
 * - One Redis (a script may touch keys of any slot): EVENTS_LUA checks the id, publishes
 *   to every channel and records the id in one atomic step per event; a call carries
 *   many events (one command per batch instead of three per event: claim, publish,
 *   complete).
 * - A cluster: an event's keys span slots, so no script can cover it. The id is claimed
 *   first (`SET NX GET` to 'p'), the event published with the id as each channel's
 *   dedupe key, and the id then marked done with its channels. A retry that finds 'p'
 *   publishes again, and the per-channel dedupe keys keep it from duplicating. Each
 *   step is one pipeline per shard for the whole batch (`RedisTopology.runPerShard`).
 */
import { runScriptCalls, withDeadline, type KeyLayout, type RedisTopology, type ScriptArg, type ShardCommand } from '@herald/redis';
import { BrokerUnavailableError, type EventPublishRequest, type EventPublishResult, type PublishRequest, type RetentionOptions } from '../broker.js';
import { PUBLICATIONS_PER_CALL, type RedisChannelStore } from './channel-store.js';
import { toBrokerError } from './errors.js';
import { EVENT_PENDING } from './lua.js';
import { ScriptBatcher } from './script-batcher.js';
import { EVENTS_SCRIPT } from './scripts.js';

export class RedisEventStore {
  private readonly eventTtl: string;
  /** Lone calls of concurrent requests, one write together (one Redis only). */
  private batcher: ScriptBatcher | undefined;

  constructor(
    private readonly topology: RedisTopology,
    private readonly keys: KeyLayout,
    private readonly channels: RedisChannelStore,
    retention: RetentionOptions,
    private readonly timeoutMs: number,
  ) {
    this.eventTtl = String(Math.max(1, Math.floor(retention.eventTtlMs)));
  }

  publishEvents(events: readonly EventPublishRequest[]): Promise<Array<EventPublishResult | Error>> {
    if (events.length === 0) return Promise.resolve([]);
    return this.topology.scriptsSpanSlots ? this.publishAtomically(events) : this.publishAcrossSlots(events);
  }

  private async publishAtomically(events: readonly EventPublishRequest[]): Promise<Array<EventPublishResult | Error>> {
    const calls = callsOf(events);
    const scriptCalls = calls.map((call) => this.eventsCommand(call.map((index) => events[index]!)));
    const results = new Array<EventPublishResult | Error>(events.length);
    let replies: Array<[Error | null, unknown]>;
    try {
      replies = await withDeadline(this.runCalls(scriptCalls), this.timeoutMs, 'publish events');
    } catch (error) {
      results.fill(toBrokerError(error, 'publish events'));
      return results;
    }
    calls.forEach((call, position) => {
      const reply = replies[position];
      for (const [i, index] of call.entries()) {
        const event = events[index]!;
        if (!reply) results[index] = new BrokerUnavailableError('Redis publish events returned no reply');
        else if (reply[0]) results[index] = toBrokerError(reply[0], 'publish events');
        else results[index] = parseEventReply(reply[1], i, event);
      }
    });
    return results;
  }

  /**
   * A request that fits one call (one event, or a small batch) joins the calls of other
   * requests in flight; a larger batch keeps its calls in order in a pipeline of its own.
   */
  private async runCalls(calls: ReadonlyArray<[string[], ScriptArg[]]>): Promise<Array<[Error | null, unknown]>> {
    if (calls.length !== 1) return runScriptCalls(this.topology.client, EVENTS_SCRIPT, calls);
    this.batcher ??= new ScriptBatcher(this.topology.client, EVENTS_SCRIPT);
    const [keys, args] = calls[0]!;
    try {
      return [[null, await this.batcher.run(keys, args)]];
    } catch (error) {
      return [[error instanceof Error ? error : new Error(String(error)), null]];
    }
  }

  private eventsCommand(events: readonly EventPublishRequest[]): [string[], ScriptArg[]] {
    const keys: string[] = [];
    const args: ScriptArg[] = [...this.channels.publishTail];
    for (const event of events) {
      const { id, requests } = event;
      keys.push(this.keys.event(id));
      args.push(this.idTtlOf(event), requests.length, JSON.stringify(requests.map((request) => request.channel)));
      for (const { channel, template } of requests) {
        keys.push(this.keys.stream(channel), this.keys.meta(channel), this.keys.dedupe(channel, id));
        args.push(this.keys.pubsub(channel), template.head, template.tail);
      }
    }
    return [keys, args];
  }

  /**
   * Three steps, each one pipeline per shard whatever the number of events (claims,
   * publications, completions), so a batch costs three round trips per shard.
   */
  private async publishAcrossSlots(events: readonly EventPublishRequest[]): Promise<Array<EventPublishResult | Error>> {
    const results = new Array<EventPublishResult | Error>(events.length);
    // An id repeated in this call is claimed and published once, by its first occurrence.
    const firstOf = new Map<string, number>();
    events.forEach((event, index) => {
      if (!firstOf.has(event.id)) firstOf.set(event.id, index);
    });
    const firsts = [...firstOf.values()];

    // 1. Claim every id; what was there says whether the event is done. Each claim
    // stands alone: one refused or lost (its shard failing over) is sent again alone
    // within the deadline, and fails its event only. A claim is SET NX, so sending it
    // again is safe.
    const claims = await this.topology.runPerShard(
      firsts.map((index) => this.setCommand(events[index]!.id, [EVENT_PENDING, 'PX', this.idTtlOf(events[index]!), 'NX', 'GET'])),
      { deadline: Date.now() + this.timeoutMs, idempotent: true, what: 'claim event' },
    );

    // 2. Publish what is not done, each channel deduped by the event id. The
    // publications get a deadline of their own: events whose claims went through are
    // not starved by one that waited for a failing shard.
    const requests: PublishRequest[] = [];
    const spans = new Map<number, [start: number, end: number]>();
    firsts.forEach((index, k) => {
      const claim = claims[k];
      if (claim instanceof Error) {
        results[index] = toBrokerError(claim, 'claim event');
        return;
      }
      const done = doneChannels(claim);
      if (done) {
        results[index] = { duplicate: true, channels: done };
        return;
      }
      const event = events[index]!;
      spans.set(index, [requests.length, requests.length + event.requests.length]);
      for (const request of event.requests) requests.push({ ...request, idempotencyKey: event.id });
    });
    const published = requests.length > 0 ? await this.channels.publishBatch(requests) : [];
    const completions: ShardCommand[] = [];
    for (const [index, [start, end]] of spans) {
      const mine = published.slice(start, end);
      const failure = mine.find((result): result is Error => result instanceof Error);
      if (failure) {
        results[index] = failure;
        continue;
      }
      const channels = events[index]!.requests.map((request) => request.channel);
      results[index] = { duplicate: mine.length > 0 && mine.every((result) => !(result instanceof Error) && result.duplicate), channels };
      completions.push(this.setCommand(events[index]!.id, [JSON.stringify(channels), 'KEEPTTL', 'XX']));
    }
    events.forEach((event, index) => {
      if (results[index] !== undefined) return;
      const first = results[firstOf.get(event.id)!]!;
      results[index] = first instanceof Error ? first : { ...first, duplicate: true };
    });

    // 3. Mark them done. Should this fail, a retry publishes again through the
    // per-channel dedupe keys: safe while they last (dedupeTtlMs).
    if (completions.length > 0) {
      await this.topology.runPerShard(completions, { deadline: Date.now() + this.timeoutMs, idempotent: true, what: 'complete events' });
    }
    return results;
  }

  /** How long the event's id is remembered, in whole milliseconds (at least 1). */
  private idTtlOf(event: EventPublishRequest): string {
    return event.idTtlMs === undefined ? this.eventTtl : String(Math.max(1, Math.floor(event.idTtlMs)));
  }

  /** `SET <event key> ...args` as a command of a shard batch. */
  private setCommand(id: string, args: readonly ScriptArg[]): ShardCommand {
    const key = this.keys.event(id);
    return { slot: this.topology.slotOf(key), command: 'set', args: [key, ...args] };
  }
}

/** Indices of the events per script call: whole events, up to PUBLICATIONS_PER_CALL publications. */
function callsOf(events: readonly EventPublishRequest[]): number[][] {
  const calls: number[][] = [];
  let current: number[] = [];
  let publications = 0;
  events.forEach((event, index) => {
    if (current.length > 0 && publications + event.requests.length > PUBLICATIONS_PER_CALL) {
      calls.push(current);
      current = [];
      publications = 0;
    }
    current.push(index);
    publications += event.requests.length;
  });
  if (current.length > 0) calls.push(current);
  return calls;
}

function doneChannels(value: unknown): readonly string[] | undefined {
  if (typeof value !== 'string' || value === EVENT_PENDING) return undefined;
  try {
    const channels: unknown = JSON.parse(value);
    return Array.isArray(channels) && channels.every((c) => typeof c === 'string') ? channels : undefined;
  } catch {
    return undefined;
  }
}

function parseEventReply(reply: unknown, i: number, event: EventPublishRequest): EventPublishResult | Error {
  if (!Array.isArray(reply) || reply.length <= 2 * i + 1) return new Error('unexpected publish events reply');
  const duplicate = reply[2 * i] === 1;
  const first: unknown = reply[2 * i + 1];
  if (typeof first === 'string') {
    return { duplicate: true, channels: doneChannels(first) ?? event.requests.map((request) => request.channel) };
  }
  return { duplicate, channels: event.requests.map((request) => request.channel) };
}
