/**
 * The Redis stream ingest: producers `XADD <prefix>:ingest * event <json>`. Entries
 * are read with a consumer group, validated and routed like HTTP requests, and
 * acknowledged only after every target channel has the event. An entry that fails
 * validation goes to `<prefix>:ingest:dead` with the reason, then is acknowledged.
 * Entries left pending by a crashed consumer are claimed with XAUTOCLAIM once idle.
 * The keys and the group are KeyLayout's (@herald/redis), where every Herald key is listed.
 */
import { INGEST_CONSUMER_GROUP, KeyLayout, type RedisClient } from '@herald/redis';
import { Problem, parseJsonInput, type JsonInputViolation } from '@herald/protocol';
import type { Logger } from '@herald/runtime';
import type { EventPublisher, IncomingEvent, Outcome } from './publisher.js';

export const CONSUMER_GROUP = INGEST_CONSUMER_GROUP;
const DEAD_LETTER_MAXLEN = 100_000;
const BLOCK_MS = 1_000;
const RETRY_DELAY_MS = 1_000;

export interface StreamConsumerOptions {
  /** A `blocking` client of its own (createRedisClient of @herald/redis): XREADGROUP BLOCK holds it. */
  client: RedisClient;
  keyPrefix: string;
  consumer: string;
  batchSize: number;
  claimIdleMs: number;
  publisher: EventPublisher;
  logger: Logger;
  /** INGEST_MAX_DEPTH: nesting allowed in an event's `data`. */
  maxDepth: number;
}

type StreamEntry = [id: string, fields: string[]];

export class StreamConsumer {
  readonly stream: string;
  readonly deadLetter: string;
  private running = false;
  private loop: Promise<void> | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private claiming = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: StreamConsumerOptions) {
    const keys = new KeyLayout(options.keyPrefix);
    this.stream = keys.ingestStream;
    this.deadLetter = keys.ingestDeadLetter;
  }

  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.loop = this.readLoop();
    this.claimTimer = setInterval(() => void this.claim(), Math.max(100, Math.floor(this.options.claimIdleMs / 2)));
    this.claimTimer.unref();
  }

  /** Finishes the batch in hand, then stops reading; unacknowledged entries stay pending. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.claimTimer) clearInterval(this.claimTimer);
    this.wake?.();
    await this.loop;
    this.options.client.disconnect();
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From 0: entries added before the first ingest started are processed too.
      await this.options.client.xgroup('CREATE', this.stream, CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  private async readLoop(): Promise<void> {
    const { client, consumer, batchSize, logger } = this.options;
    while (this.running) {
      try {
        const reply = (await client.xreadgroup('GROUP', CONSUMER_GROUP, consumer, 'COUNT', batchSize, 'BLOCK', BLOCK_MS, 'STREAMS', this.stream, '>')) as
          | Array<[string, StreamEntry[]]>
          | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length > 0) await this.process(entries);
      } catch (error) {
        if (!this.running) break;
        if (String((error as Error).message).includes('NOGROUP')) {
          await this.ensureGroup().catch(() => {});
        }
        logger.warn({ err: error }, 'stream read failed; retrying');
        await this.pause(RETRY_DELAY_MS);
      }
    }
  }

  /** Claims entries idle longer than claimIdleMs (a crashed or stuck consumer's). */
  private async claim(): Promise<void> {
    if (!this.running || this.claiming) return;
    this.claiming = true;
    try {
      let cursor = '0-0';
      do {
        const [next, entries] = (await this.options.client.xautoclaim(
          this.stream,
          CONSUMER_GROUP,
          this.options.consumer,
          this.options.claimIdleMs,
          cursor,
          'COUNT',
          this.options.batchSize,
        )) as [string, StreamEntry[], string[]?];
        const live = entries.filter((entry): entry is StreamEntry => Array.isArray(entry) && Array.isArray(entry[1]));
        if (live.length > 0) {
          this.options.logger.info({ count: live.length }, 'claimed pending stream entries');
          await this.process(live);
        }
        cursor = next;
      } while (cursor !== '0-0' && this.running);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'stream claim failed');
    } finally {
      this.claiming = false;
    }
  }

  private async process(entries: StreamEntry[]): Promise<void> {
    const events: IncomingEvent[] = [];
    const parseFailures = new Map<number, string>();
    entries.forEach(([id, fields], index) => {
      const text = fieldOf(fields, 'event');
      let raw: unknown;
      let inputViolations: readonly JsonInputViolation[] = [];
      if (text === undefined) parseFailures.set(index, 'the entry has no "event" field');
      else {
        try {
          // The same input limits as the HTTP API: the event object is the one level above `data`.
          ({ value: raw, violations: inputViolations } = parseJsonInput(text, { maxDepth: this.options.maxDepth, depthBase: 1 }));
        } catch (error) {
          parseFailures.set(index, `"event" is not valid JSON: ${(error as Error).message}`);
        }
      }
      // The entry id names the event when it has no id: a retry publishes nothing twice.
      events.push({ raw, defaultId: `evt_stream_${id}`, inputViolations });
    });
    const valid = events.filter((_, index) => !parseFailures.has(index));
    const outcomes = valid.length > 0 ? await this.options.publisher.accept(valid, 'stream') : [];
    const { client } = this.options;
    const acks: string[] = [];
    let next = 0;
    for (let index = 0; index < entries.length; index++) {
      const [id, fields] = entries[index]!;
      const failure = parseFailures.get(index);
      const outcome: Outcome = failure !== undefined
        ? { ok: false, problem: failure.includes('JSON') ? Problem.invalidJson : Problem.validationFailed, detail: failure }
        : outcomes[next++]!;
      if (outcome.ok) {
        acks.push(id);
        continue;
      }
      if (outcome.problem === Problem.brokerUnavailable) continue; // stays pending; claimed and retried later
      await client.xadd(
        this.deadLetter,
        'MAXLEN',
        '~',
        DEAD_LETTER_MAXLEN,
        '*',
        'event',
        fieldOf(fields, 'event') ?? '',
        'problem',
        outcome.problem.type,
        'reason',
        outcome.detail,
        'errors',
        JSON.stringify(outcome.errors ?? []),
        'source',
        id,
        'consumer',
        this.options.consumer,
      );
      acks.push(id);
    }
    if (acks.length > 0) await client.xack(this.stream, CONSUMER_GROUP, ...acks);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length - 1; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
