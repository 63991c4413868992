/**
 * An edge SIGKILLed under load (3 edges, 1 ingest, 300 SDK clients, 200 events/s): its
 * clients see their connection drop (1006), reconnect to the other edges of their URL
 * list and resume with `since`: nothing lost, nothing repeated. The dead edge's share of
 * the cluster-wide connection count is reaped within two admission leases
 * (ADMISSION_LEASE_PERIOD=3s, the shortest allowed): `{<prefix>:admission}:total` is
 * again exactly the connections the live edges hold (their /metrics) and the dead node
 * is gone from `{<prefix>:admission}:nodes`.
 */
import { expect, it } from 'vitest';
import { nodeIdOf, waitUntil } from '../support/cluster.js';
import type { HeraldProcess } from '../support/herald.js';
import { metricValue } from '../support/http.js';
import { runScenario, withBed } from './scenario.js';

const LEASE_MS = 3_000;

it('an edge SIGKILLed: its clients resume on the others, its connection count reaped within two leases', { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-edge', edgeEnv: { ADMISSION_LEASE_PERIOD: `${LEASE_MS}ms` } }, async (bed) => {
    const [victim, ...survivors] = bed.herald.edges as [HeraldProcess, ...HeraldProcess[]];
    const connections = async (edges: readonly HeraldProcess[]): Promise<number> =>
      (await Promise.all(edges.map((edge) => metricValue(edge.url, 'herald_edge_connections')))).reduce((a, b) => a + b, 0);
    const countedTotal = async (): Promise<number> => Number((await bed.admin.get(bed.admissionTotalKey)) ?? 0);
    let heal: { killedAt: number; healedAt: number; victimShare: number; countBefore: number; peakCount: number } | undefined;

    const result = await runScenario(bed, {
      name: 'edge-sigkill',
      async fault({ bed }) {
        const victimShare = await metricValue(victim.url, 'herald_edge_connections');
        const countBefore = await countedTotal();
        const killedAt = Date.now();
        await bed.kill(victim);
        // Until the lease lapses the dead share is still counted while its clients are
        // counted again on the edges they moved to: the total peaks, then falls back.
        let peakCount = countBefore;
        await waitUntil(
          async () => {
            const [total, live, leased] = await Promise.all([countedTotal(), connections(survivors), bed.admin.zscore(bed.admissionNodesKey, nodeIdOf(victim))]);
            peakCount = Math.max(peakCount, total);
            return leased === null && total === live && live === countBefore;
          },
          { timeoutMs: 30_000, intervalMs: 50, what: 'the cluster-wide count back to the live connections' },
        );
        heal = { killedAt, healedAt: Date.now(), victimShare, countBefore, peakCount };
        // Recovered: every client connected again and counted once.
        return {
          endedAt: killedAt,
          recoveredAt: heal.healedAt,
          deadEdges: [victim],
          figures: { victimShare, countBefore, peakCount, healMs: heal.healedAt - killedAt, leaseMs: LEASE_MS },
        };
      },
    });
    expect(heal!.countBefore).toBe(result.summary.clients);
    expect(heal!.victimShare).toBeGreaterThan(0);
    // Every client of the killed edge moved, none of the others had to.
    expect(result.figures.clientsDisconnected).toBe(heal!.victimShare);
    expect(heal!.healedAt - heal!.killedAt).toBeLessThanOrEqual(2 * LEASE_MS);
  });
});
