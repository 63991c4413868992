/**
 * An ingest whose clock is 5 minutes ahead (libfaketime, FAKETIME=+5m, preloaded into
 * that process only; the monotonic clock is left alone so its timers run normally),
 * beside an ingest on the true clock, under load (3 edges, 300 SDK clients, batches
 * alternating between the two ingests, 200 events/s), with a third of the client links
 * cut mid-way so that recovery reads history written by both.
 *
 * A channel's seq comes from the Redis server's clock inside the publish script, so the
 * skew cannot reorder a channel or break recovery: every client gets every accepted
 * event once, in accepted order. What the ingest's own clock still decides, asserted:
 *
 *   - the envelope `timestamp` (time of receipt when the producer gives none): 5 minutes
 *     ahead on the skewed ingest, so timestamps are not monotonic across ingests while
 *     seqs are;
 *   - token expiry: a producer token with 2 minutes left is refused (401) by the skewed
 *     ingest, accepted by the other;
 *   - not idempotency (the record's expiry is relative, kept by Redis): the same id
 *     through either ingest is published once;
 *   - not the stream's claim idle (XAUTOCLAIM's min-idle-time is measured by Redis):
 *     the skewed ingest claims a stalled consumer's entries after INGEST_STREAM_CLAIM_IDLE,
 *     neither at once nor 5 minutes late.
 *
 * And an edge 5 minutes ahead beside two on the true clock: the cluster-wide connection
 * count stays exact. Admission leases used to be written and compared in each edge's own
 * clock, so the skewed edge saw every other lease as lapsed and reaped the live nodes'
 * shares (the count fell from 300 to ~90); they are now kept in Redis's clock.
 */
import { existsSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { compareSeq } from '@herald/protocol';
import { expect, it } from 'vitest';
import { waitUntil } from '../support/cluster.js';
import { TEST_SECRET } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';
import type { Bed } from './bed.js';
import { httpLoad, runScenario, withBed } from './scenario.js';

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((path) =>
  existsSync(path),
);
const SKEW_MS = 5 * 60_000;
const CLAIM_IDLE_MS = 1_000;
const LEASE_MS = 3_000;
const GROUP = 'herald-ingest';

if (!LIBFAKETIME) console.log('[chaos] clock skew: libfaketime not found, case skipped (Debian: apt-get install -y faketime)');

it.skipIf(!LIBFAKETIME)('an ingest 5 minutes ahead: ordering and recovery intact; only its timestamps and token expiry follow its clock', { timeout: 150_000 }, async () => {
  // Ingest 0 on the true clock (no stream consumer, so the claim check below is the skewed one's).
  await withBed({ label: 'chaos-skew', ingestEnv: { INGEST_STREAM_ENABLED: 'false' } }, async (bed) => {
    const normal = bed.herald.ingests[0]!;
    const skewed = await bed.herald.add('ingest', {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME: '+5m',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      INGEST_STREAM_ENABLED: 'true',
      INGEST_STREAM_CLAIM_IDLE: `${CLAIM_IDLE_MS}ms`,
    });
    // The preload took: the skewed process logs in its own time.
    const listening = await skewed.waitForLog((record) => record.msg === 'herald listening');
    const loggedSkew = Date.parse(listening.time as string) - Date.now();
    expect(loggedSkew).toBeGreaterThan(SKEW_MS - 30_000);

    let cut = 0;
    const result = await runScenario(bed, {
      name: 'ingest-clock-5m-ahead',
      load: httpLoad({ ingestUrl: [normal.url, skewed.url], spread: 'round-robin' }),
      async fault({ swarm }) {
        cut = await swarm.cut(1 / 3);
        return { endedAt: Date.now(), figures: { skewMs: SKEW_MS, linksCut: cut } };
      },
    });
    // The cut clients resumed from history that both ingests wrote.
    expect(cut).toBeGreaterThan(0);
    expect(result.figures.recoveredEvents).toBeGreaterThan(0);

    await checkWhatTheClockDecides(bed, normal.url, skewed.url);
  });
});

it.skipIf(!LIBFAKETIME)('an edge 5 minutes ahead: the cluster-wide connection count stays exact', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-edge-skew', edges: 2, edgeEnv: { ADMISSION_LEASE_PERIOD: `${LEASE_MS}ms` } }, async (bed) => {
    await bed.herald.add('edge', { LD_PRELOAD: LIBFAKETIME, FAKETIME: '+5m', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
    const samples: number[] = [];
    const result = await runScenario(bed, {
      name: 'edge-clock-5m-ahead',
      async fault({ swarm }) {
        // Leases are renewed every third of a period: watch three periods of renewals and
        // reaps, with a tenth of the links cut and counted again meanwhile.
        const until = Date.now() + 3 * LEASE_MS;
        let cut = false;
        while (Date.now() < until) {
          samples.push(Number((await bed.admin.get(bed.admissionTotalKey)) ?? 0));
          if (!cut && Date.now() > until - 2 * LEASE_MS) {
            cut = true;
            await swarm.cut(0.1);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return { endedAt: Date.now(), figures: { skewMs: SKEW_MS, countMin: Math.min(...samples), countMax: Math.max(...samples) } };
      },
    });
    // Exact, but for the cut tenth while it reconnects. (Leases in the edges' clocks: the
    // skewed edge reaped the two others' shares at every script it ran, down to ~90.)
    const clients = result.summary.clients as number;
    expect(Math.max(...samples)).toBe(clients);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(clients * 0.85);
  });
});

async function checkWhatTheClockDecides(bed: Bed, normalUrl: string, skewedUrl: string): Promise<void> {
  const merchant = `m_skewprobe_${Date.now().toString(36)}`;
  const channel = `merchant:${merchant}`;
  const probe = await TestClient.open(bed.herald.edges[0]!.wsUrl, { token: clientToken({ sub: 'skew-probe', channels: [channel] }) });
  try {
    await probe.subscribe(channel);
    // Timestamps follow each ingest's clock; seqs follow Redis.
    const sentAt = Date.now();
    const ids: string[] = [];
    for (const url of [normalUrl, skewedUrl, normalUrl]) {
      const event = paymentCreated(merchant);
      expect((await publish(url, event)).status).toBe(202);
      ids.push(event.id as string);
    }
    const [first, second, third] = (await probe.waitForEvents(3, channel)) as [Frame, Frame, Frame];
    expect([first.id, second.id, third.id]).toEqual(ids);
    expect(compareSeq(first.seq, second.seq)).toBeLessThan(0);
    expect(compareSeq(second.seq, third.seq)).toBeLessThan(0);
    const offset = (frame: Frame) => Date.parse(frame.timestamp as string) - sentAt;
    expect(Math.abs(offset(first))).toBeLessThan(10_000);
    expect(Math.abs(offset(second) - SKEW_MS)).toBeLessThan(30_000);
    expect(Date.parse(third.timestamp as string)).toBeLessThan(Date.parse(second.timestamp as string));

    // Idempotency: the same id through one ingest then the other is published once.
    const once = paymentCreated(merchant);
    expect((await publish(skewedUrl, once)).body).toMatchObject({ duplicate: false });
    expect((await publish(normalUrl, once)).body).toMatchObject({ duplicate: true });
    const twice = paymentCreated(merchant);
    expect((await publish(normalUrl, twice)).body).toMatchObject({ duplicate: false });
    expect((await publish(skewedUrl, twice)).body).toMatchObject({ duplicate: true });

    // Token expiry is judged by the ingest's clock: 2 minutes left is already past at +5m.
    const shortLived = jwt.sign({ sub: 'producer', scope: 'events:publish' }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 120 });
    const auth = { authorization: `Bearer ${shortLived}` };
    expect((await publish(normalUrl, paymentCreated(merchant), auth)).status).toBe(202);
    expect((await publish(skewedUrl, paymentCreated(merchant), auth)).status).toBe(401);

    // Stream claim idle: entries a consumer read and never acknowledged (in one MULTI, so
    // the skewed ingest's blocked read cannot take them first) are claimed after the idle time.
    const stream = `${bed.herald.prefix}:ingest`;
    const streamed = Array.from({ length: 20 }, () => paymentCreated(merchant));
    const multi = bed.admin.multi();
    for (const event of streamed) multi.xadd(stream, '*', 'event', JSON.stringify(event));
    multi.xreadgroup('GROUP', GROUP, 'stalled-consumer', 'COUNT', streamed.length, 'STREAMS', stream, '>');
    await multi.exec();
    const readAt = Date.now();
    await waitUntil(
      async () => {
        const [, , , consumers] = (await bed.admin.xpending(stream, GROUP)) as [number, unknown, unknown, Array<[string, string]> | null];
        return Number(consumers?.find(([name]) => name === 'stalled-consumer')?.[1] ?? 0) === 0;
      },
      { intervalMs: 25, timeoutMs: 15_000, what: "the stalled consumer's entries claimed" },
    );
    const claimedAfterMs = Date.now() - readAt;
    console.log(`[chaos] case=ingest-clock-5m-ahead-probe timestampSkewMs=${offset(second)} streamClaimedAfterMs=${claimedAfterMs} claimIdleMs=${CLAIM_IDLE_MS}`);
    expect(claimedAfterMs).toBeGreaterThanOrEqual(CLAIM_IDLE_MS - 50);
    expect(claimedAfterMs).toBeLessThan(CLAIM_IDLE_MS + 3_000);
    const delivered = await probe.waitForEvents(3 + 2 + 1 + streamed.length, channel);
    const streamedIds = new Set(streamed.map((event) => event.id as string));
    expect(delivered.filter((frame) => streamedIds.has(frame.id as string)).length).toBe(streamed.length);
    expect(new Set(delivered.map((frame) => frame.id)).size).toBe(delivered.length);
  } finally {
    probe.socket.terminate();
  }
}
