/**
 * PROTOCOL.md section 13: `herald tail` reconnects and resumes like the SDK. One Redis,
 * one `herald edge` and one `herald ingest`; the edge the tail is connected to is
 * restarted on the same port (drained with SIGTERM, then killed with SIGKILL), events
 * are published while it is down, and the tail's output holds every event exactly once,
 * in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, startHerald, type HeraldProcess } from '../support/herald.js';
import { startRedis, uniquePrefix, type RedisServer } from '../support/redis.js';
import { envelopes, paymentLine, runCli, startTail } from './support.js';

const INGEST_KEY = 'cli-resume-ingest-key-0123';
const MERCHANT = 'm_resume';

describe('herald tail across a restart of its edge node', () => {
  let redis: RedisServer;
  let common: Record<string, string>;
  let ingest: HeraldProcess;
  let edge: HeraldProcess;

  beforeAll(async () => {
    redis = await startRedis();
    common = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix('cli').replace(/[^A-Za-z0-9_.-]/g, '-') };
    ingest = await startHerald({ mode: 'ingest', env: { ...common, INGEST_API_KEYS: INGEST_KEY }, waitReady: true });
    edge = await startHerald({ mode: 'edge', env: common, waitReady: true });
  });
  afterAll(async () => {
    await edge?.stop();
    await ingest?.stop();
    await redis?.stop();
  });

  const publish = async (from: number, count: number): Promise<void> => {
    const lines = Array.from({ length: count }, (_, i) => paymentLine(`r_${from + i}`, MERCHANT, from + i));
    const result = await runCli(['publish'], { INGEST_URL: ingest.url, INGEST_API_KEY: INGEST_KEY }, { stdin: lines.join('\n') });
    expect(result.code, result.stderr).toBe(0);
  };

  it('loses and repeats nothing when the edge drains or dies and comes back', async () => {
    const tail = startTail([`merchant:${MERCHANT}`], { EDGE_URL: `ws://127.0.0.1:${edge.port}`, JWT_SECRET: TEST_SECRET });
    try {
      await tail.waitForStderr(`merchant:${MERCHANT}: subscribed`);
      await publish(0, 10);
      await tail.waitForLines(10);

      let published = 10;
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        const port = edge.port;
        await edge.stop(signal);
        await tail.waitForStderr(new RegExp(`connection lost[^\\n]*\\n(?![\\s\\S]*reconnected to)`), 15_000);
        // Published while no edge runs: the tail can only get these from history.
        await publish(published, 10);
        published += 10;
        edge = await startHerald({ mode: 'edge', env: { ...common, PORT: String(port) }, waitReady: true });
        await tail.waitForStderr(new RegExp(`resumed after \\S+, 10 missed event\\(s\\) replayed[^\\n]*\\n(?![\\s\\S]*connection lost)`), 30_000);
        await publish(published, 5);
        published += 5;
        await tail.waitForLines(published, 15_000);
      }

      // A last event as a barrier: the tail prints in order, so anything repeated after the
      // fact would come before it.
      await publish(published, 1);
      published += 1;
      await tail.waitForLines(published, 15_000);
      const events = envelopes(tail.lines);
      expect(events.map((e) => e.id)).toEqual(Array.from({ length: published }, (_, i) => `r_${i}`));
      const seqs = events.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(tail.stderr()).not.toContain('continuity lost');
      expect(tail.stderr().match(/reconnected to/g)).toHaveLength(2);
      expect((await tail.stop('SIGTERM')).code).toBe(0);
    } finally {
      await tail.stop('SIGKILL');
    }
  });
});
