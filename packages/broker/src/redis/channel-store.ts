/**
 * The command side of the Redis engines: publish (one script call, or one pipeline per
 * node for a batch), history and position, on the command client. Every call is
 * bounded by a deadline and fails with BrokerUnavailableError when Redis is
 * unreachable, so callers can answer 503 and retry.
 */
import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import { isValidSeq } from '@herald/protocol';
import { BrokerUnavailableError, type HistoryResult, type Publication, type PublishRequest, type PublishResult, type RetentionOptions } from '../broker.js';
import { toBrokerError, withDeadline } from './errors.js';
import type { KeyLayout } from './keys.js';
import { HistoryCode } from './lua.js';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT, queueScript, runScript, runScriptBuffer, type ScriptArg } from './scripts.js';

const HISTORY_REASONS = {
  [HistoryCode.unknownChannel]: 'unknown-channel',
  [HistoryCode.futureSeq]: 'future-seq',
  [HistoryCode.trimmed]: 'trimmed',
  [HistoryCode.expired]: 'expired',
} as const;

export class RedisChannelStore {
  /** ARGV 4..8 of the publish script, the same for every publish. */
  private readonly publishTail: readonly ScriptArg[];
  private readonly historyTtlArg: string;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeyLayout,
    retention: RetentionOptions,
    private readonly timeoutMs: number,
  ) {
    const { historySize, historyTtlMs, historyMetaTtlMs, dedupeTtlMs } = retention;
    // Redis refuses a zero or negative expiry; one millisecond is as good as none.
    this.publishTail = [
      Math.max(0, Math.floor(historySize)),
      Math.max(1, Math.floor(historyTtlMs)),
      Math.max(1, Math.floor(historyMetaTtlMs)),
      Math.max(1, Math.floor(dedupeTtlMs)),
      client instanceof Cluster ? 'spublish' : 'publish',
    ];
    this.historyTtlArg = String(Math.max(1, Math.floor(historyTtlMs)));
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const [keys, args] = this.publishCommand(request);
    let reply: unknown;
    try {
      reply = await withDeadline(runScript(this.client, PUBLISH_SCRIPT, keys, args), this.timeoutMs, 'publish');
    } catch (error) {
      throw toBrokerError(error, 'publish');
    }
    return parsePublishReply(reply);
  }

  async publishBatch(requests: readonly PublishRequest[]): Promise<Array<PublishResult | Error>> {
    const results = new Array<PublishResult | Error>(requests.length);
    await Promise.all(this.pipelineGroups(requests).map((indices) => this.publishPipeline(requests, indices, results)));
    return results;
  }

  async history(channel: string, since: string): Promise<HistoryResult> {
    if (!isValidSeq(since)) throw new RangeError(`invalid seq ${JSON.stringify(since)}`);
    let reply: unknown;
    try {
      reply = await withDeadline(
        runScriptBuffer(this.client, HISTORY_SCRIPT, [this.keys.stream(channel), this.keys.meta(channel)], [since, this.historyTtlArg]),
        this.timeoutMs,
        'history',
      );
    } catch (error) {
      throw toBrokerError(error, 'history');
    }
    return parseHistoryReply(reply);
  }

  async position(channel: string): Promise<string | undefined> {
    try {
      const top = await withDeadline(this.client.hget(this.keys.meta(channel), 'top'), this.timeoutMs, 'position');
      return top ?? undefined;
    } catch (error) {
      throw toBrokerError(error, 'position');
    }
  }

  private publishCommand(request: PublishRequest): [string[], ScriptArg[]] {
    const { channel, template, idempotencyKey } = request;
    const keys = [this.keys.stream(channel), this.keys.meta(channel)];
    if (idempotencyKey !== undefined) keys.push(this.keys.dedupe(channel, idempotencyKey));
    return [keys, [this.keys.pubsub(channel), template.head, template.tail, ...this.publishTail]];
  }

  /**
   * Indices of the requests per pipeline: one for a single Redis, one per master for
   * a cluster (an ioredis cluster pipeline must stay on one node). Request order is
   * kept inside each group, so a channel's publications keep the batch order.
   */
  private pipelineGroups(requests: readonly PublishRequest[]): number[][] {
    if (requests.length === 0) return [];
    if (!(this.client instanceof Cluster)) return [requests.map((_, i) => i)];
    const slots = this.client.slots;
    const groups = new Map<string, number[]>();
    requests.forEach((request, i) => {
      const slot = this.keys.slot(request.channel);
      // Before the slot map is known, a group per slot is always valid.
      const node = slots[slot]?.[0] ?? `slot:${slot}`;
      const group = groups.get(node);
      if (group) group.push(i);
      else groups.set(node, [i]);
    });
    return [...groups.values()];
  }

  private async publishPipeline(requests: readonly PublishRequest[], indices: readonly number[], results: Array<PublishResult | Error>): Promise<void> {
    const pipeline: ChainableCommander = this.client.pipeline();
    indices.forEach((index, position) => {
      const [keys, args] = this.publishCommand(requests[index]!);
      queueScript(pipeline, PUBLISH_SCRIPT, keys, args, position === 0);
    });
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await withDeadline(pipeline.exec(), this.timeoutMs, 'publish batch');
    } catch (error) {
      const failure = toBrokerError(error, 'publish batch');
      for (const index of indices) results[index] = failure;
      return;
    }
    indices.forEach((index, position) => {
      const reply = replies?.[position];
      if (!reply) results[index] = new BrokerUnavailableError('Redis publish batch returned no reply');
      else if (reply[0]) results[index] = toBrokerError(reply[0], 'publish');
      else {
        try {
          results[index] = parsePublishReply(reply[1]);
        } catch (error) {
          results[index] = error instanceof Error ? error : new Error(String(error));
        }
      }
    });
  }
}

function parsePublishReply(reply: unknown): PublishResult {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error(`unexpected publish script reply: ${String(reply)}`);
  return { seq: reply[0], duplicate: reply[1] === 1 };
}

function parseHistoryReply(reply: unknown): HistoryResult {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number') throw new Error('unexpected history script reply');
  const code = reply[0];
  if (code !== HistoryCode.complete) {
    const reason = HISTORY_REASONS[code as keyof typeof HISTORY_REASONS];
    if (reason === undefined) throw new Error(`unexpected history script code ${code}`);
    return { complete: false, reason };
  }
  const publications: Publication[] = [];
  for (let i = 1; i + 1 < reply.length; i += 2) {
    // Seqs are ASCII; envelopes stay the Buffers ioredis parsed.
    publications.push({ seq: (reply[i] as Buffer).toString('latin1'), envelope: reply[i + 1] as Buffer });
  }
  return { complete: true, publications };
}
