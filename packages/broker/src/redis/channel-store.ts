/**
 * The command side of the Redis engines: publish (one script call, or one pipeline per
 * shard for a batch), history and position, on the command client. Every call is
 * bounded by a deadline and fails with BrokerUnavailableError when Redis is
 * unreachable, so callers can answer 503 and retry. On a cluster, a call refused
 * because the topology is changing is sent again within that deadline
 * (`RedisTopology.send`).
 */
import { isValidSeq } from '@herald/protocol';
import { runScript, runScriptBuffer, runScriptCalls, withDeadline, type KeyLayout, type RedisTopology, type ScriptArg } from '@herald/redis';
import { BrokerUnavailableError, type HistoryResult, type Publication, type PublishRequest, type RetentionOptions } from '../broker.js';
import { toBrokerError } from './errors.js';
import { HistoryCode } from './lua.js';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT } from './scripts.js';

/** One publication's outcome (engine-internal: the Broker publishes whole events). */
export interface PublishResult {
  readonly seq: string;
  /** True when the request's idempotency key was seen before: nothing was published this time. */
  readonly duplicate: boolean;
}

const HISTORY_REASONS = {
  [HistoryCode.unknownChannel]: 'unknown-channel',
  [HistoryCode.futureSeq]: 'future-seq',
  [HistoryCode.trimmed]: 'trimmed',
  [HistoryCode.expired]: 'expired',
} as const;

export class RedisChannelStore {
  /** ARGV 1..5 of the publish scripts, the same for every publish. */
  readonly publishTail: readonly ScriptArg[];
  /** ARGV 2..3 of the history script: ttl ms, size. */
  private readonly historyTail: readonly ScriptArg[];

  constructor(
    private readonly topology: RedisTopology,
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
      topology.publishCommand,
    ];
    this.historyTail = [this.publishTail[1]!, this.publishTail[0]!];
  }

  /** `deadline` (epoch ms, default now + the operation timeout) bounds the whole batch. */
  async publishBatch(requests: readonly PublishRequest[], deadline = Date.now() + this.timeoutMs): Promise<Array<PublishResult | Error>> {
    const results = new Array<PublishResult | Error>(requests.length);
    const failed: FailedCall[] = [];
    await Promise.all(this.pipelineGroups(requests).map((calls) => this.publishPipeline(requests, calls, results, failed, deadline)));
    if (failed.length > 0) await this.retryCalls(requests, failed, results, deadline);
    return results;
  }

  async history(channel: string, since: string): Promise<HistoryResult> {
    if (!isValidSeq(since)) throw new RangeError(`invalid seq ${JSON.stringify(since)}`);
    let reply: unknown;
    try {
      reply = await withDeadline(
        runScriptBuffer(this.topology.client, HISTORY_SCRIPT, [this.keys.stream(channel), this.keys.meta(channel)], [since, ...this.historyTail]),
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
      const top = await withDeadline(this.topology.client.hget(this.keys.meta(channel), 'top'), this.timeoutMs, 'position');
      return top ?? undefined;
    } catch (error) {
      throw toBrokerError(error, 'position');
    }
  }

  /** KEYS and ARGV of one publish script call carrying `requests` (one slot in a cluster). */
  private publishCommand(requests: readonly PublishRequest[]): [string[], ScriptArg[]] {
    const keys: string[] = [];
    const args: ScriptArg[] = [...this.publishTail];
    for (const { channel, template, idempotencyKey } of requests) {
      keys.push(this.keys.stream(channel), this.keys.meta(channel));
      if (idempotencyKey !== undefined) keys.push(this.keys.dedupe(channel, idempotencyKey));
      args.push(this.keys.pubsub(channel), template.head, template.tail, idempotencyKey === undefined ? '0' : '1');
    }
    return [keys, args];
  }

  /**
   * The batch as pipelines of script calls: one pipeline per shard; each call carries up
   * to PUBLICATIONS_PER_CALL requests of one slot (on a cluster a script's keys must
   * share a slot; on one Redis every request is in slot 0). Request order is kept inside
   * each slot, so a channel's publications keep the batch order.
   */
  private pipelineGroups(requests: readonly PublishRequest[]): number[][][] {
    const slots = requests.map((request) => this.topology.slotOf(this.keys.pubsub(request.channel)));
    return this.topology.groupByShard(slots).map((indices) => {
      const bySlot = new Map<number, number[]>();
      for (const index of indices) {
        const same = bySlot.get(slots[index]!);
        if (same) same.push(index);
        else bySlot.set(slots[index]!, [index]);
      }
      return [...bySlot.values()].flatMap((same) => chunk(same, PUBLICATIONS_PER_CALL));
    });
  }

  /**
   * Sends the failed calls of a batch again, each alone, within the batch's deadline,
   * when the topology says a retry may help (on a cluster; never on one Redis).
   * The calls of one slot go one after the other in batch order, and once one fails
   * for good the later ones of its slot are not tried: a channel's publications keep
   * their order. (A later call of the slot that had succeeded in the pipeline stays
   * ahead of a retried one; that needs a call refused while the next one of the same
   * slot was not, which a slot migration makes rare.)
   */
  private async retryCalls(
    requests: readonly PublishRequest[],
    failed: readonly FailedCall[],
    results: Array<PublishResult | Error>,
    deadline: number,
  ): Promise<void> {
    const bySlot = new Map<number, FailedCall[]>();
    for (const call of failed) {
      const slot = this.topology.slotOf(this.keys.pubsub(requests[call.indices[0]!]!.channel));
      const chain = bySlot.get(slot);
      if (chain) chain.push(call);
      else bySlot.set(slot, [call]);
    }
    const settle = (indices: readonly number[], outcome: PublishResult[] | Error): void => {
      indices.forEach((index, i) => {
        results[index] = outcome instanceof Error ? outcome : outcome[i]!;
      });
    };
    await Promise.all(
      [...bySlot.values()].map(async (chain) => {
        let given: Error | undefined;
        for (const { indices, error } of chain) {
          const idempotent = indices.every((index) => requests[index]!.idempotencyKey !== undefined);
          if (given !== undefined || !this.topology.isRetryable(error, idempotent)) {
            given ??= toBrokerError(error, 'publish batch');
            settle(indices, given);
            continue;
          }
          const [keys, args] = this.publishCommand(indices.map((index) => requests[index]!));
          try {
            const { client } = this.topology;
            const reply = await this.topology.send(() => runScript(client, PUBLISH_SCRIPT, keys, args), { deadline, idempotent, what: 'publish batch' });
            settle(indices, parsePublishReply(reply, indices.length));
          } catch (retryError) {
            given = toBrokerError(retryError, 'publish batch');
            settle(indices, given);
          }
        }
      }),
    );
  }

  /** Runs the calls as one pipeline; fills `results` for those answered, adds the others to `failed`. */
  private async publishPipeline(
    requests: readonly PublishRequest[],
    calls: readonly number[][],
    results: Array<PublishResult | Error>,
    failed: FailedCall[],
    deadline: number,
  ): Promise<void> {
    const scriptCalls = calls.map((indices) => this.publishCommand(indices.map((index) => requests[index]!)));
    let replies: Array<[Error | null, unknown]>;
    try {
      replies = await withDeadline(runScriptCalls(this.topology.client, PUBLISH_SCRIPT, scriptCalls), Math.max(1, deadline - Date.now()), 'publish batch');
    } catch (error) {
      for (const indices of calls) failed.push({ indices, error });
      return;
    }
    calls.forEach((indices, position) => {
      const reply = replies[position];
      let outcome: PublishResult[] | Error;
      if (!reply) outcome = new BrokerUnavailableError('Redis publish batch returned no reply');
      else if (reply[0]) {
        failed.push({ indices, error: reply[0] });
        return;
      } else {
        try {
          outcome = parsePublishReply(reply[1], indices.length);
        } catch (error) {
          outcome = error instanceof Error ? error : new Error(String(error));
        }
      }
      indices.forEach((index, i) => {
        results[index] = outcome instanceof Error ? outcome : outcome[i]!;
      });
    });
  }
}

/** A script call of a batch that failed, with the error as the client gave it. */
interface FailedCall {
  readonly indices: readonly number[];
  readonly error: unknown;
}

/**
 * Publications per script call: a call runs atomically, so this bounds how long one
 * call holds Redis (about 2 ms at ~20 us per publication) while still sharing one
 * command's overhead over many publications.
 */
export const PUBLICATIONS_PER_CALL = 100;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function parsePublishReply(reply: unknown, count: number): PublishResult[] {
  if (!Array.isArray(reply) || reply.length !== count * 2) throw new Error(`unexpected publish script reply: ${String(reply)}`);
  const results: PublishResult[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const seq: unknown = reply[2 * i];
    if (typeof seq !== 'string') throw new Error(`unexpected publish script reply: ${String(reply)}`);
    results[i] = { seq, duplicate: reply[2 * i + 1] === 1 };
  }
  return results;
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
