/**
 * Load and watching for the topology-change scenarios (test/cluster/redis-cluster-topology):
 *
 * - `RetryingPublisher`: a producer posting batches to the ingest API at a steady rate,
 *   one batch in flight; an event answered 503 is posted again with the same id (as the
 *   API asks) before the next batch, so the accepted order per merchant stays the
 *   channel's seq order. It counts every 503 and when events were accepted. With several
 *   ingest URLs it moves to the next one when a request gets no answer (a crashed
 *   ingest), or spreads the batches over them in turn.
 * - `ReadinessWatch`: polls /readyz of processes and adds up how long each was not 200.
 *
 * Both are bounded in time and count; both stop on `stop()`.
 */
import type { HeraldProcess } from './herald.js';
import { paymentCreated, publishBatch } from './ingest.js';

export interface RetryingPublisherOptions {
  /** One ingest, or several: see `spread`. */
  ingestUrl: string | readonly string[];
  /**
   * With several URLs: 'failover' (default) keeps to one until a request gets no answer,
   * then goes on with the next; 'round-robin' sends each batch to the next one.
   */
  spread?: 'failover' | 'round-robin';
  /** Called as each request is sent (the chaos tests time a crash by it). */
  onSend?: (events: readonly Event[], url: string) => void;
  /** Called when a request got no answer, before its events are posted again. */
  onUnanswered?: (events: readonly Event[], url: string) => Promise<void>;
  merchants: readonly string[];
  /** Target events per second. */
  rate: number;
  batchSize: number;
  /** How long one event may keep being refused before it counts as failed (default 30 s). */
  retryForMs?: number;
  /** Hard bound of the run (default 120 s). */
  maxRunMs?: number;
}

type Event = Record<string, any>;

export class RetryingPublisher {
  /** Accepted (202) event ids per merchant, in publish order. */
  readonly accepted = new Map<string, string[]>();
  /** Send times (ms) of events accepted at their first attempt, to tell what went through during a failover. */
  readonly acceptedAt: number[] = [];
  published = 0;
  /** 503 answers, retries included. */
  unavailable = 0;
  /** Events that got at least one 503. */
  retriedEvents = 0;
  /** Events of requests that got no answer (their outcome unknown until posted again). */
  unanswered = 0;
  /** How long each answered request took. */
  readonly latenciesMs: number[] = [];
  /** Events still refused after `retryForMs`, and other surprises. */
  failures: string[] = [];
  startedAt = 0;
  stoppedAt = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly urls: readonly string[];
  private current = 0;

  constructor(private readonly options: RetryingPublisherOptions) {
    for (const merchant of options.merchants) this.accepted.set(merchant, []);
    this.urls = typeof options.ingestUrl === 'string' ? [options.ingestUrl] : options.ingestUrl;
  }

  start(): void {
    this.running = true;
    this.startedAt = Date.now();
    this.loop = this.run();
  }

  /** Stops after the batch in flight (and its retries); resolves when it is answered. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.stoppedAt = Date.now();
  }

  /** Events sent in [from, to] and accepted at that first attempt. */
  acceptedBetween(from: number, to: number): number {
    return this.acceptedAt.filter((t) => t >= from && t <= to).length;
  }

  /** One marker event per merchant (payment.updated, status "final"), after everything else. */
  async publishMarkers(markerOf: Record<string, string>): Promise<void> {
    const events = Object.entries(markerOf).map(([merchant, id]) => ({
      type: 'payment.updated',
      id,
      data: { payment_id: `${id}_pay`, merchant_id: merchant, status: 'final' },
    }));
    await this.send(events);
  }

  private async run(): Promise<void> {
    const { merchants, rate, batchSize } = this.options;
    const hardStop = this.startedAt + (this.options.maxRunMs ?? 120_000);
    const interval = (batchSize / rate) * 1000;
    let due = Date.now();
    let turn = 0;
    while (this.running && Date.now() < hardStop) {
      // Distinct merchants per batch (stride coprime with the count when it is not a multiple of 7).
      const events = Array.from({ length: batchSize }, (_, i) => paymentCreated(merchants[(turn * batchSize + i * 7) % merchants.length]!));
      if (this.options.spread === 'round-robin') this.current = turn % this.urls.length;
      turn++;
      await this.send(events);
      due += interval;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Posts the events, then the refused ones again (same ids) until accepted or `retryForMs` passed. */
  private async send(events: Event[]): Promise<void> {
    const giveUpAt = Date.now() + (this.options.retryForMs ?? 30_000);
    let pending = events;
    let first = true;
    const retried = new Set<string>();
    while (pending.length > 0) {
      let refused: Event[] = [];
      const sentAt = Date.now();
      const url = this.urls[this.current]!;
      try {
        this.options.onSend?.(pending, url);
        const answer = await publishBatch(url, pending);
        this.latenciesMs.push(Date.now() - sentAt);
        if (answer.status !== 207) {
          if (answer.status === 503) this.unavailable += pending.length;
          else this.failures.push(`batch answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
          refused = pending;
        } else {
          (answer.body.results as Array<{ status: number; id: string; duplicate?: boolean }>).forEach((result, i) => {
            const event = pending[i]!;
            if (result.status === 202) {
              // A duplicate on a retry: an earlier attempt was applied after all.
              if (result.duplicate && !retried.has(event.id)) {
                this.failures.push(`first attempt of ${event.id} answered duplicate`);
                return;
              }
              this.accepted.get(event.data.merchant_id as string)!.push(result.id);
              this.published++;
              if (first) this.acceptedAt.push(sentAt);
            } else if (result.status === 503) {
              this.unavailable++;
              refused.push(event);
            } else if (this.failures.length < 20) {
              this.failures.push(JSON.stringify(result).slice(0, 200));
            }
          });
        }
      } catch (error) {
        // No answer: the outcome is unknown, so the same ids go again (to the next ingest).
        refused = pending;
        this.unanswered += pending.length;
        this.current = (this.current + 1) % this.urls.length;
        if (this.failures.length < 20 && Date.now() > giveUpAt) this.failures.push(`batch failed: ${(error as Error).message}`);
        await this.options.onUnanswered?.(pending, url);
      }
      for (const event of refused) {
        if (!retried.has(event.id)) this.retriedEvents++;
        retried.add(event.id);
      }
      pending = refused;
      first = false;
      if (pending.length === 0) return;
      if (Date.now() > giveUpAt) {
        this.failures.push(`${pending.length} event(s) still refused after ${this.options.retryForMs ?? 30_000} ms`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export class ReadinessWatch {
  /** Per process: total ms not answering 200, and the spans [from, to]. */
  readonly notReadyMs: number[];
  readonly spans: Array<Array<[number, number]>>;
  private running = true;
  private readonly loops: Array<Promise<void>>;

  constructor(
    private readonly processes: readonly HeraldProcess[],
    private readonly intervalMs = 100,
    maxRunMs = 180_000,
  ) {
    this.notReadyMs = processes.map(() => 0);
    this.spans = processes.map(() => []);
    const hardStop = Date.now() + maxRunMs;
    this.loops = processes.map((_, i) => this.watch(i, hardStop));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Whether process `i` was seen not ready at some point. */
  sawNotReady(i: number): boolean {
    return this.spans[i]!.length > 0;
  }

  private async watch(i: number, hardStop: number): Promise<void> {
    const url = `${this.processes[i]!.url}/readyz`;
    let downSince: number | undefined;
    while (this.running && Date.now() < hardStop) {
      const before = Date.now();
      let status = 0;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
      const now = Date.now();
      if (status !== 200 && downSince === undefined) downSince = before;
      if (status === 200 && downSince !== undefined) {
        this.spans[i]!.push([downSince, now]);
        this.notReadyMs[i]! += now - downSince;
        downSince = undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
    if (downSince !== undefined) {
      this.spans[i]!.push([downSince, Date.now()]);
      this.notReadyMs[i]! += Date.now() - downSince;
    }
  }
}
