/**
 * One edge's surroundings fail under load (3 edges, 1 ingest, 300 SDK clients, 200
 * events/s):
 *
 *   - the network between that edge and Redis is cut for 3 s (a TCP proxy in between
 *     resets every connection and refuses new ones), then restored: the edge reports
 *     the broker down (/readyz 503), keeps its clients, reconnects and fills every
 *     channel's gap from history;
 *   - the same link stalls for 3 s (connections open, nothing carried), then flows
 *     again: the held bytes arrive late and in order;
 *   - the edge's whole process stalls for 2 s (SIGSTOP, SIGCONT): event loop, timers and
 *     sockets all stop, as in a long GC pause or a throttled container, with no hook in
 *     the production code.
 *
 * In each, the other two edges are untouched, and every client gets every accepted
 * event once, without continuity-lost.
 */
import { expect, it } from 'vitest';
import type { HeraldProcess } from '../support/herald.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../support/tcp-proxy.js';
import type { Bed } from './bed.js';
import { runScenario, withBed } from './scenario.js';

const LINK_FAULT_MS = 3_000;
const STALL_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bed of two edges on Redis and a third behind a TCP proxy. */
async function withProxiedEdge(label: string, body: (bed: Bed, edge: HeraldProcess, proxy: TcpProxy) => Promise<void>): Promise<void> {
  await withBed({ label, edges: 2 }, async (bed) => {
    const proxy = await startTcpProxy({ host: bed.redis.host, port: bed.redis.port });
    try {
      const edge = await bed.herald.add('edge', { REDIS_URL: proxy.url });
      await body(bed, edge, proxy);
    } finally {
      await proxy.close();
    }
  });
}

async function linkFault(label: string, mode: ProxyMode): Promise<void> {
  await withProxiedEdge(label, async (bed, edge, proxy) => {
    const acceptedBefore = { value: 0 };
    const result = await runScenario(bed, {
      name: `edge-redis-link-${mode}-3s`,
      async fault() {
        acceptedBefore.value = proxy.accepted;
        proxy.setMode(mode);
        await sleep(LINK_FAULT_MS);
        proxy.setMode('pass');
        return { endedAt: Date.now(), figures: { faultMs: LINK_FAULT_MS, edgeRedisConnectionsAfter: proxy.accepted - acceptedBefore.value } };
      },
    });
    // The edge's clients never noticed beyond a delay: nobody was disconnected.
    expect(result.figures.clientsDisconnected).toBe(0);
    if (mode === 'drop') {
      // It lost its Redis connections and made new ones through the restored link.
      expect(proxy.accepted).toBeGreaterThan(acceptedBefore.value);
      expect(edge.stdout.some((line) => line.includes('"msg":"broker subscriptions lost; resubscribing when Redis is back"'))).toBe(true);
    }
  });
}

it('the link between one edge and Redis cut for 3 s, then restored: nothing lost, no continuity-lost', { timeout: 150_000 }, async () => {
  await linkFault('chaos-link-drop', 'drop');
});

it('the link between one edge and Redis stalled for 3 s, then flowing: nothing lost, no continuity-lost', { timeout: 150_000 }, async () => {
  await linkFault('chaos-link-stall', 'stall');
});

it("one edge's process stalled for 2 s (SIGSTOP, SIGCONT): nothing lost, nothing repeated", { timeout: 150_000 }, async () => {
  await withBed({ label: 'chaos-edge-stall' }, async (bed) => {
    const edge = bed.herald.edges[0]!;
    const result = await runScenario(bed, {
      name: 'edge-process-stalled-2s',
      async fault() {
        process.kill(edge.pid, 'SIGSTOP');
        try {
          await sleep(STALL_MS);
        } finally {
          process.kill(edge.pid, 'SIGCONT');
        }
        return { endedAt: Date.now(), figures: { stalledMs: STALL_MS } };
      },
    });
    expect(result.figures.clientsDisconnected).toBe(0);
  });
});
