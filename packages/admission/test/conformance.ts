/**
 * The admission conformance suite: what every Admission engine must do (src/admission.ts),
 * run on the memory engine and on the Redis engine over one Redis and a Redis Cluster.
 * Each engine's run (admission-*.test.ts beside this file) calls `admissionConformance`
 * with a fixture that makes started Admission instances, the "nodes" of one cluster,
 * sharing one count, with a key prefix of their own so that tests never share state.
 *
 * - `acquire` checks and counts in one step: the cluster-wide limit and the per-user
 *   limit hold exactly, however many acquires run at once on however many nodes, and a
 *   refusal is never counted. A user '' has no per-user limit.
 * - `release` gives a place back (engines may batch releases: the suite waits until
 *   `count` shows it, as a caller would see it).
 * - `count` is the cluster-wide count; `nodeCounts` each live node's share.
 * - `stop` gives back every connection the node still counts.
 * - A node that vanishes without `stop` (its process killed) stops counting once its
 *   lease expired: within two lease periods (engines with several nodes).
 *
 * An engine of one process (memory) has one node: the cases about several nodes are
 * skipped for it, and say so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Admission, AdmissionLimits, AdmissionResult } from '../src/admission.js';

export interface AdmissionFixture {
  /** A started node: every node of one fixture shares one count. */
  node(limits: AdmissionLimits): Promise<Admission>;
  /** Ends a node as a crash would: no `stop`, no more lease renewals. */
  crash?(node: Admission): Promise<void>;
  /** Stops every node made and removes what the backend holds. */
  cleanup(): Promise<void>;
}

export interface AdmissionConformanceOptions {
  /** Whether nodes of one fixture share one count (false: an engine of one process). */
  severalNodes: boolean;
  /** The nodes' lease, for engines whose fixture can `crash` a node. */
  leaseMs?: number;
  /** Per-test timeout. */
  timeoutMs?: number;
}

const limits = (maxConnections: number | null, maxConnectionsPerUser: number | null = null): AdmissionLimits => ({ maxConnections, maxConnectionsPerUser });

const admittedCount = (results: readonly AdmissionResult[]) => results.filter((result) => result.admitted).length;

/** Polls `check` until it holds; for what no event announces (a batched release, an expired lease). */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Until `count` of `node` is `expected` (a release may still be on its way). */
function countReaches(node: Admission, expected: number): Promise<void> {
  return eventually(async () => (await node.count()) === expected, 5_000, `count ${expected}`);
}

export function admissionConformance(engine: string, makeFixture: () => Promise<AdmissionFixture>, options: AdmissionConformanceOptions): void {
  const timeout = options.timeoutMs ?? 10_000;

  describe(`Admission conformance: ${engine}`, () => {
    let fixture: AdmissionFixture;

    beforeEach(async () => {
      fixture = await makeFixture();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('starts with nothing counted and not degraded', { timeout }, async () => {
      const node = await fixture.node(limits(10));
      expect(await node.count()).toBe(0);
      expect(node.degradedReason()).toBeUndefined();
      expect(node.fallbackAdmissions).toBe(0);
    });

    it('admits up to the global limit, never counts a refusal, and gives a released place back', { timeout }, async () => {
      const node = await fixture.node(limits(2));
      expect(await node.acquire('a')).toEqual({ admitted: true });
      expect(await node.acquire('b')).toEqual({ admitted: true });
      expect(await node.acquire('c')).toEqual({ admitted: false, reason: 'global-limit' });
      expect(await node.acquire('')).toEqual({ admitted: false, reason: 'global-limit' });
      expect(await node.count()).toBe(2);
      node.release('a');
      await countReaches(node, 1);
      expect(await node.acquire('c')).toEqual({ admitted: true });
      expect(await node.count()).toBe(2);
      expect(await node.acquire('d')).toEqual({ admitted: false, reason: 'global-limit' });
    });

    it('limits connections per user; a user \'\' has no per-user limit', { timeout }, async () => {
      const node = await fixture.node(limits(null, 1));
      expect(await node.acquire('u')).toEqual({ admitted: true });
      expect(await node.acquire('u')).toEqual({ admitted: false, reason: 'user-limit' });
      expect(await node.acquire('v')).toEqual({ admitted: true });
      expect(await node.acquire('')).toEqual({ admitted: true });
      expect(await node.acquire('')).toEqual({ admitted: true });
      expect(await node.count()).toBe(4);
      node.release('u');
      await countReaches(node, 3);
      expect(await node.acquire('u')).toEqual({ admitted: true });
      expect(await node.acquire('u')).toEqual({ admitted: false, reason: 'user-limit' });
    });

    it('counts concurrent acquires exactly', { timeout }, async () => {
      const node = await fixture.node(limits(37, 5));
      // Not awaited one by one: an engine may batch them, but must count each as if alone.
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => node.acquire(`user-${i % 10}`)));
      expect(admittedCount(results)).toBe(37);
      const refusals = results.filter((result) => !result.admitted);
      expect(refusals.every((result) => !result.admitted && result.reason === 'global-limit')).toBe(true);
      expect(await node.count()).toBe(37);
    });

    it('releases in bulk: every place comes back, users included', { timeout }, async () => {
      const node = await fixture.node(limits(6, 3));
      const users = ['a', 'a', 'a', 'b', 'b', ''];
      expect(admittedCount(await Promise.all(users.map((user) => node.acquire(user))))).toBe(6);
      for (const user of users) node.release(user);
      await countReaches(node, 0);
      expect(admittedCount(await Promise.all(['a', 'a', 'a', 'b', 'b', 'b'].map((user) => node.acquire(user))))).toBe(6);
    });

    it('reports the node\'s share in nodeCounts', { timeout }, async () => {
      const node = await fixture.node(limits(null));
      expect(admittedCount(await Promise.all([node.acquire('a'), node.acquire('b'), node.acquire('')]))).toBe(3);
      const counts = await node.nodeCounts();
      expect(counts.size).toBe(1);
      expect([...counts.values()]).toEqual([3]);
    });

    it('stop() gives back every connection the node counted', { timeout }, async () => {
      const node = await fixture.node(limits(10, 2));
      expect(admittedCount(await Promise.all([node.acquire('a'), node.acquire('a'), node.acquire('')]))).toBe(3);
      await node.stop();
      expect(await node.count()).toBe(0);
    });

    // Registered only where they apply, and said so where they do not: a one-process
    // engine has no second node to share its count with.
    if (!options.severalNodes) console.info(`admission conformance (${engine}): the cases of several nodes sharing one count do not apply (one node per process)`);
    if (options.severalNodes) describe('several nodes sharing one count', () => {
      it('admits exactly the global limit under concurrent acquires from four nodes', { timeout }, async () => {
        const nodes = await Promise.all([0, 1, 2, 3].map(() => fixture.node(limits(50))));
        // 4 x 40 attempts at once, interleaved over the four nodes.
        const attempts = Array.from({ length: 160 }, (_, i) => nodes[i % 4]!.acquire(`user-${i % 7}`));
        const results = await Promise.all(attempts);
        expect(admittedCount(results)).toBe(50);
        expect(results.filter((result) => !result.admitted).every((result) => !result.admitted && result.reason === 'global-limit')).toBe(true);
        for (const node of nodes) expect(await node.count()).toBe(50);
        // Every node reads every live node's share: what each admitted.
        const perNode = nodes.map((_, n) => admittedCount(results.filter((_, i) => i % 4 === n)));
        const counts = await nodes[1]!.nodeCounts();
        expect(counts.size).toBe(4);
        expect([...counts.values()].sort()).toEqual([...perNode].sort());
        expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(50);
        // Full: one more is refused anywhere, and not counted.
        expect(await nodes[3]!.acquire('late')).toEqual({ admitted: false, reason: 'global-limit' });
        expect(await nodes[0]!.count()).toBe(50);
      });

      it('holds the per-user limit across nodes, and the global limit on top', { timeout }, async () => {
        const nodes = await Promise.all([0, 1, 2].map(() => fixture.node(limits(30, 3))));
        const forUser = (user: string) => Promise.all(nodes.flatMap((node) => Array.from({ length: 4 }, () => node.acquire(user))));
        const [alice, bob, anonymous] = await Promise.all([forUser('alice'), forUser('bob'), forUser('')]);
        expect(admittedCount(alice)).toBe(3);
        expect(admittedCount(bob)).toBe(3);
        expect(alice.filter((result) => !result.admitted)).toEqual(Array(9).fill({ admitted: false, reason: 'user-limit' }));
        expect(admittedCount(anonymous)).toBe(12);
        expect(await nodes[2]!.count()).toBe(18);
        // 30 - 18 more, whoever asks.
        const rest = await Promise.all(Array.from({ length: 20 }, (_, i) => nodes[i % 3]!.acquire(`u${i}`)));
        expect(admittedCount(rest)).toBe(12);
        expect(rest.filter((result) => !result.admitted)).toEqual(Array(8).fill({ admitted: false, reason: 'global-limit' }));
      });

      it('gives a place released on one node to the others', { timeout }, async () => {
        const [a, b] = await Promise.all([fixture.node(limits(3, 2)), fixture.node(limits(3, 2))]);
        expect(admittedCount(await Promise.all([a.acquire('alice'), a.acquire('alice'), a.acquire('bob')]))).toBe(3);
        expect(await b.acquire('carol')).toEqual({ admitted: false, reason: 'global-limit' });
        a.release('alice');
        await countReaches(b, 2);
        // Alice's own place is free again too: b may admit her up to her limit.
        expect(await b.acquire('alice')).toEqual({ admitted: true });
        expect(await b.acquire('carol')).toEqual({ admitted: false, reason: 'global-limit' });
      });

      it('stop() gives back the node\'s whole share at once', { timeout }, async () => {
        const [a, b] = await Promise.all([fixture.node(limits(8)), fixture.node(limits(8))]);
        expect(admittedCount(await Promise.all(Array.from({ length: 5 }, (_, i) => a.acquire(`a${i % 2}`))))).toBe(5);
        expect(admittedCount(await Promise.all(Array.from({ length: 3 }, () => b.acquire('b'))))).toBe(3);
        await a.stop();
        expect(await b.count()).toBe(3);
        expect([...(await b.nodeCounts()).values()]).toEqual([3]);
        expect(admittedCount(await Promise.all(Array.from({ length: 7 }, () => b.acquire('b'))))).toBe(5);
      });

      const leaseMs = options.leaseMs ?? 0;
      if (leaseMs === 0) console.info(`admission conformance (${engine}): no lease given, so the case of a node vanishing without stop() is not run`);
      else it(`forgets a node that vanished without stop() within two lease periods (${leaseMs} ms lease)`, { timeout: timeout + 4 * leaseMs }, async () => {
        const [alive, dying] = await Promise.all([fixture.node(limits(20)), fixture.node(limits(20))]);
        expect(admittedCount(await Promise.all(Array.from({ length: 6 }, () => dying.acquire('d'))))).toBe(6);
        expect(admittedCount(await Promise.all(Array.from({ length: 2 }, () => alive.acquire('a'))))).toBe(2);
        expect(await alive.count()).toBe(8);
        const lostAt = Date.now();
        await fixture.crash!(dying);
        await eventually(async () => (await alive.count()) === 2, 4 * leaseMs, 'the vanished node forgotten');
        expect(Date.now() - lostAt).toBeLessThan(2 * leaseMs);
        expect([...(await alive.nodeCounts()).values()]).toEqual([2]);
        // Its places are free again.
        expect(admittedCount(await Promise.all(Array.from({ length: 20 }, () => alive.acquire('a'))))).toBe(18);
      });
    });
  });
}
