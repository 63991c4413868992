/**
 * An ingest SIGKILLed under load (3 edges, 2 ingests, 300 SDK clients, 200 events/s):
 *
 *   - over HTTP, in the middle of a batch: the producer sends batches of 100 to ingest A
 *     and, when a request gets no answer, posts the same events (same ids) to ingest B.
 *     The kill lands half-way through a batch's usual answer time, so part of it may be
 *     stored and part not; the test counts how much (`<prefix>:idem:<id>` keys) before
 *     the retry. No event answered 202 is lost; the retried ones are not duplicated (the
 *     stored ones come back `duplicate`, the rest are published once).
 *   - on the Redis stream (`XADD <prefix>:ingest`), both ingests consuming in the group
 *     with INGEST_STREAM_CLAIM_IDLE=1s: A is killed while it holds pending entries; B
 *     claims them once idle and every entry reaches every subscriber exactly once. Two
 *     consumers publish in parallel, so a channel's order is not the XADD order (and a
 *     claimed entry comes late): that case checks once, not order.
 */
import { expect, it } from 'vitest';
import { nodeIdOf, waitUntil } from '../support/cluster.js';
import { percentile } from '../sdk/harness.js';
import { httpLoad, runScenario, withBed, RATE } from './scenario.js';
import { StreamLoad } from './stream-load.js';

const GROUP = 'herald-ingest';

it('an ingest SIGKILLed in the middle of an HTTP batch: nothing acknowledged is lost, retries are not duplicated', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-ingest-http', ingests: 2 }, async (bed) => {
    const [a, b] = bed.herald.ingests as [typeof bed.herald.ingests[0], typeof bed.herald.ingests[0]];
    let armed: ((url: string) => void) | undefined;
    let unanswered: { events: number; storedBeforeRetry: number } | undefined;
    const load = httpLoad({
      ingestUrl: [a.url, b.url],
      batchSize: 100,
      onSend: (_events, url) => armed?.(url),
      async onUnanswered(events) {
        // What the killed ingest stored of the batch, before the retry goes to the other one.
        const stored = await Promise.all(events.map((event) => bed.admin.exists(`${bed.herald.prefix}:idem:${event.id as string}`)));
        unanswered = { events: events.length, storedBeforeRetry: stored.reduce((n, x) => n + x, 0) };
      },
    });
    const result = await runScenario(bed, {
      name: 'ingest-sigkill-http-batch',
      load,
      async fault({ load }) {
        const publisher = load as ReturnType<ReturnType<typeof httpLoad>>;
        // Half the usual answer time of a batch of 100 on this machine, from the batches so far.
        const delayMs = Math.max(1, Math.round(percentile(publisher.latenciesMs, 50) / 2));
        const killedAt = await new Promise<number>((resolve) => {
          armed = (url) => {
            if (url !== a.url) return;
            armed = undefined;
            setTimeout(() => {
              process.kill(a.pid, 'SIGKILL');
              resolve(Date.now());
            }, delayMs);
          };
        });
        await a.exited;
        await waitUntil(() => unanswered !== undefined, { what: 'the killed batch retried', timeoutMs: 10_000 });
        return { endedAt: killedAt, figures: { killDelayMs: delayMs, medianBatchMs: percentile(publisher.latenciesMs, 50), unansweredBatch: unanswered } };
      },
    });
    expect(unanswered!.events).toBe(100);
    // The retried events were accepted (202, some as duplicates) and counted once each.
    expect(result.summary.unanswered).toBe(100);
  });
});

it('an ingest SIGKILLed while consuming the stream: its pending entries claimed by the other, delivered once', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-ingest-stream', ingests: 2, ingestEnv: { INGEST_STREAM_CLAIM_IDLE: '1s', INGEST_STREAM_BATCH: '200' } }, async (bed) => {
    const [a] = bed.herald.ingests;
    const stream = `${bed.herald.prefix}:ingest`;
    const consumerA = nodeIdOf(a!);
    const pendingOf = async (consumer?: string): Promise<number> => {
      const [count, , , consumers] = (await bed.admin.xpending(stream, GROUP)) as [number, unknown, unknown, Array<[string, string]> | null];
      return consumer === undefined ? Number(count) : Number(consumers?.find(([name]) => name === consumer)?.[1] ?? 0);
    };
    let streamLoad: StreamLoad | undefined;
    await runScenario(bed, {
      name: 'ingest-sigkill-stream',
      ordered: false,
      load: (bed, merchants) => (streamLoad = new StreamLoad({ admin: bed.admin, stream, merchants, rate: RATE, batchSize: 20 })),
      async fault() {
        // A burst the consumers take in batches of 200: A holds some pending while it publishes them.
        await streamLoad!.burst(1_000);
        await waitUntil(async () => (await pendingOf(consumerA)) > 0, { intervalMs: 1, timeoutMs: 10_000, what: 'ingest A holding pending entries' });
        process.kill(a!.pid, 'SIGKILL');
        const killedAt = Date.now();
        await a!.exited;
        const pendingAtKill = await pendingOf(consumerA);
        await waitUntil(async () => (await pendingOf(consumerA)) === 0, { intervalMs: 50, timeoutMs: 20_000, what: "the killed consumer's entries claimed" });
        const claimedAt = Date.now();
        return { endedAt: killedAt, recoveredAt: claimedAt, figures: { pendingAtKill, claimMs: claimedAt - killedAt } };
      },
      async beforeMarkers() {
        // Every entry read and acknowledged: the markers then come after everything else.
        await waitUntil(
          async () => {
            const groups = (await bed.admin.xinfo('GROUPS', stream)) as unknown[][];
            const group = groups.map((fields) => Object.fromEntries(chunk(fields))).find((g) => g.name === GROUP);
            return group !== undefined && Number(group.lag) === 0 && (await pendingOf()) === 0;
          },
          { intervalMs: 50, timeoutMs: 30_000, what: 'the stream consumed and acknowledged' },
        );
      },
    });
  });
});

function chunk(fields: unknown[]): Array<[unknown, unknown]> {
  const pairs: Array<[unknown, unknown]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([fields[i], fields[i + 1]]);
  return pairs;
}
