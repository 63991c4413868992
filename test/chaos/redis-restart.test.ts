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
 * In both restarts a third of the client links are also cut while Redis is down, so those
 * clients reconnect and subscribe again (with `since`) to edges that cannot reach Redis,
 * and resume once it is back.
 *
 * After each restart the cluster-wide connection count (`{<prefix>:admission}:total`) is
 * again exactly the 300 clients within two admission leases (ADMISSION_LEASE_PERIOD=3s):
 * each edge writes its share back, also when Redis came back empty.
 *
 * The producer posts refused (503) or unanswered events again with the same id.
 */
import { expect, it } from 'vitest';
import { waitUntil } from '../support/cluster.js';
import { metricValue } from '../support/http.js';
import { AOF_ALWAYS, type Bed } from './bed.js';
import { CLIENTS_PER_MERCHANT, MERCHANTS, runScenario, withBed, type FaultContext, type FaultOutcome } from './scenario.js';

const DOWN_MS = 2_000;
const LEASE_MS = 3_000;
const CLIENTS = MERCHANTS * CLIENTS_PER_MERCHANT;
const FROZEN_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Log lines of the edges whose message is `message`. */
function edgeLogCount(edges: ReadonlyArray<{ stdout: string[] }>, message: string): number {
  return edges.reduce((n, edge) => n + edge.stdout.filter((line) => line.includes(`"msg":"${message}"`)).length, 0);
}

/**
 * SIGKILL, a third of the links cut, DOWN_MS down, a restart; `healed` then records how
 * long after the restart the admission count was back to every client (awaited in the
 * background: the scenario goes on meanwhile).
 */
async function restart({ bed, swarm }: FaultContext, healed: AdmissionHeal): Promise<FaultOutcome> {
  await bed.redis.kill();
  const linksCut = await swarm.cut(1 / 3);
  await sleep(DOWN_MS);
  await bed.redis.restart();
  const restartedAt = Date.now();
  const figures: Record<string, unknown> = { downMs: DOWN_MS, linksCut };
  healed.done = countBackTo(bed, CLIENTS).then(() => {
    figures.admissionHealMs = Date.now() - restartedAt;
    return Date.now() - restartedAt;
  });
  return { endedAt: restartedAt, figures };
}

interface AdmissionHeal {
  done?: Promise<number>;
}

/** Every edge counting in Redis again (not degraded), and the count there is `expected`. */
function countBackTo(bed: Bed, expected: number): Promise<void> {
  return waitUntil(async () => {
    const degraded = await Promise.all(bed.herald.edges.map((edge) => metricValue(edge.url, 'herald_admission_degraded')));
    return degraded.every((value) => value === 0) && Number((await bed.admin.get(bed.admissionTotalKey)) ?? 0) === expected;
  }, {
    intervalMs: 50,
    timeoutMs: 30_000,
    what: `the admission count back to ${expected}`,
  });
}

it('Redis SIGKILLed and restarted with AOF (appendfsync always): nothing lost, no continuity-lost', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-aof', redisArgs: AOF_ALWAYS, edgeEnv: { ADMISSION_LEASE_PERIOD: `${LEASE_MS}ms` } }, async (bed) => {
    const healed: AdmissionHeal = {};
    const result = await runScenario(bed, {
      name: 'redis-restart-aof',
      fault: (context) => restart(context, healed),
    });
    expect(result.figures.continuityLost).toBe(0);
    expect(await healed.done).toBeLessThanOrEqual(2 * LEASE_MS);
  });
});

it('Redis SIGKILLed and restarted without persistence: every gap announced by continuity-lost', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-nopersist', edgeEnv: { ADMISSION_LEASE_PERIOD: `${LEASE_MS}ms` } }, async (bed) => {
    const healed: AdmissionHeal = {};
    const result = await runScenario(bed, {
      name: 'redis-restart-no-persistence',
      continuityLost: 'required',
      fault: (context) => restart(context, healed),
    });
    // Every channel's history is gone: each of the edges says so once per channel it serves.
    expect(edgeLogCount(bed.herald.edges, 'gap after reconnection not in history')).toBeGreaterThan(0);
    expect(result.figures.continuityLost).toBeGreaterThan(0);
    expect(await healed.done).toBeLessThanOrEqual(2 * LEASE_MS);
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
