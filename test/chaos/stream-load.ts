/**
 * A steady producer on the Redis stream ingest: `XADD <prefix>:ingest * event <json>` in
 * small pipelines at a target rate, as a producer service would. An entry is accepted
 * once XADD answered (the consumer group then owes it to the channels), so `accepted`
 * lists every entry added, per merchant, in XADD order. The same shape as
 * RetryingPublisher for the chaos scenarios (start, stop, accepted, markers).
 */
import type { Redis } from 'ioredis';
import { paymentCreated } from '../support/ingest.js';

export interface StreamLoadOptions {
  admin: Redis;
  stream: string;
  merchants: readonly string[];
  /** Entries per second. */
  rate: number;
  /** Entries per XADD pipeline. */
  batchSize: number;
  /** Hard bound of the run (default 120 s). */
  maxRunMs?: number;
}

export class StreamLoad {
  readonly accepted = new Map<string, string[]>();
  readonly failures: string[] = [];
  published = 0;
  startedAt = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly options: StreamLoadOptions) {
    for (const merchant of options.merchants) this.accepted.set(merchant, []);
  }

  start(): void {
    this.running = true;
    this.startedAt = Date.now();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Adds `count` entries at once (a burst a consumer will hold pending for a while). */
  async burst(count: number, turn = 0): Promise<void> {
    const { merchants } = this.options;
    await this.add(Array.from({ length: count }, (_, i) => paymentCreated(merchants[(turn * count + i * 7) % merchants.length]!)));
  }

  async publishMarkers(markerOf: Record<string, string>): Promise<void> {
    await this.add(
      Object.entries(markerOf).map(([merchant, id]) => ({ type: 'payment.updated', id, data: { payment_id: `${id}_pay`, merchant_id: merchant, status: 'final' } })),
    );
  }

  private async run(): Promise<void> {
    const { rate, batchSize } = this.options;
    const hardStop = this.startedAt + (this.options.maxRunMs ?? 120_000);
    const interval = (batchSize / rate) * 1000;
    let due = Date.now();
    let turn = 0;
    while (this.running && Date.now() < hardStop) {
      await this.burst(batchSize, turn++);
      due += interval;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async add(events: Array<Record<string, any>>): Promise<void> {
    const pipeline = this.options.admin.pipeline();
    for (const event of events) pipeline.xadd(this.options.stream, '*', 'event', JSON.stringify(event));
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error], i) => {
      const event = events[i]!;
      if (error) {
        if (this.failures.length < 20) this.failures.push(`XADD failed: ${error.message}`);
        return;
      }
      this.accepted.get(event.data.merchant_id as string)!.push(event.id as string);
      this.published++;
    });
  }
}
