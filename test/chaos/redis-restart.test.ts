/**
 * Redis itself fails under load (3 edges, 1 ingest, 300 SDK clients, 200 events/s):
 *
 *   - SIGKILL, then a restart on the same port with AOF (`appendfsync always`): every
 *     acknowledged write is on disk, history survives, so every client gets every
 *     accepted event, no continuity-lost;
 *   - the same without persistence: history is gone, so the clients whose gap history
 *     cannot fill must get continuity-lost (never silence) and every event outside an
 *     announced gap;
 *   - SIGSTOP for 5 s, then SIGCONT: a frozen Redis, every connection open and silent;
 *     nothing is lost, nothing repeated.
 *
 * The producer posts refused (503) or unanswered events again with the same id.
 */
import { expect, it } from 'vitest';
import { AOF_ALWAYS } from './bed.js';
import { runScenario, withBed } from './scenario.js';

const DOWN_MS = 2_000;
const FROZEN_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Log lines of the edges whose message is `message`. */
function edgeLogCount(edges: ReadonlyArray<{ stdout: string[] }>, message: string): number {
  return edges.reduce((n, edge) => n + edge.stdout.filter((line) => line.includes(`"msg":"${message}"`)).length, 0);
}

it('Redis SIGKILLed and restarted with AOF (appendfsync always): nothing lost, no continuity-lost', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-aof', redisArgs: AOF_ALWAYS }, async (bed) => {
    const result = await runScenario(bed, {
      name: 'redis-restart-aof',
      async fault({ bed }) {
        await bed.redis.kill();
        await sleep(DOWN_MS);
        await bed.redis.restart();
        return { endedAt: Date.now(), figures: { downMs: DOWN_MS } };
      },
    });
    expect(result.figures.continuityLost).toBe(0);
  });
});

it('Redis SIGKILLed and restarted without persistence: every gap announced by continuity-lost', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-nopersist' }, async (bed) => {
    const result = await runScenario(bed, {
      name: 'redis-restart-no-persistence',
      continuityLost: 'required',
      async fault({ bed }) {
        await bed.redis.kill();
        await sleep(DOWN_MS);
        await bed.redis.restart();
        return { endedAt: Date.now(), figures: { downMs: DOWN_MS } };
      },
    });
    // Every channel's history is gone: each of the edges says so once per channel it serves.
    expect(edgeLogCount(bed.herald.edges, 'gap after reconnection not in history')).toBeGreaterThan(0);
    expect(result.figures.continuityLost).toBeGreaterThan(0);
  });
});

it('Redis frozen 5 s (SIGSTOP, SIGCONT): nothing lost, nothing repeated', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-frozen' }, async (bed) => {
    await runScenario(bed, {
      name: 'redis-frozen-5s',
      async fault({ bed }) {
        process.kill(bed.redis.pid, 'SIGSTOP');
        try {
          await sleep(FROZEN_MS);
        } finally {
          process.kill(bed.redis.pid, 'SIGCONT');
        }
        return { endedAt: Date.now(), figures: { frozenMs: FROZEN_MS } };
      },
    });
  });
});
