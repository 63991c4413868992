/**
 * PROTOCOL.md section 6: on SIGTERM a node answers 503 on /readyz at once, stops
 * accepting upgrades, closes its connections with 1001 spread over
 * SHUTDOWN_DRAIN_PERIOD, and exits 0 before SHUTDOWN_TIMEOUT.
 */
import { describe, expect, it } from 'vitest';
import { startHerald } from '../support/herald.js';
import { httpGet, mediaTypeOf } from '../support/http.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, refusedHandshake } from '../support/ws-client.js';

const DRAIN_MS = 1_000;
const TIMEOUT_MS = 6_000;

describe('SIGTERM', () => {
  it('readyz 503 at once, upgrades refused, every connection closed 1001 spread over the drain period, exit 0 in time', async () => {
    const herald = await startHerald({
      waitReady: true,
      env: { SHUTDOWN_DRAIN_PERIOD: `${DRAIN_MS}ms`, SHUTDOWN_TIMEOUT: `${TIMEOUT_MS}ms` },
    });
    try {
      const clients = await Promise.all(
        Array.from({ length: 10 }, (_, i) => TestClient.open(herald.wsUrl, { token: clientToken({ sub: `u${i}`, channels: ['merchant:m_drain'] }) })),
      );
      for (const client of clients) await client.subscribe('merchant:m_drain');
      const closedAt: number[] = [];
      const codes = Promise.all(
        clients.map((client) =>
          client.closed.then((closed) => {
            closedAt.push(Date.now());
            return closed.code;
          }),
        ),
      );

      const signalledAt = Date.now();
      herald.child.kill('SIGTERM');
      await herald.waitForLog((record) => record.msg === 'shutting down');

      const ready = await httpGet(`${herald.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(mediaTypeOf(ready.contentType)).toBe('application/problem+json');
      expect(ready.body).toMatchObject({ type: expect.stringMatching(/^\/problems\//), status: 503, title: expect.any(String) });
      // Liveness is not readiness: the process is alive while it drains.
      expect((await httpGet(`${herald.url}/healthz`)).status).toBe(200);

      // No new connection while draining: an HTTP refusal (or the port is closed).
      try {
        const refused = await refusedHandshake(herald.wsUrl, { token: clientToken() });
        expect(refused.status).toBe(503);
        expect(mediaTypeOf(refused.contentType)).toBe('application/problem+json');
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      }

      expect(await codes).toEqual(clients.map(() => 1001));
      // Spread over the period: not all at the same instant, all within it (plus slack).
      closedAt.sort((a, b) => a - b);
      const spread = closedAt.at(-1)! - closedAt[0]!;
      expect(spread).toBeGreaterThanOrEqual(DRAIN_MS * 0.5);
      expect(closedAt.at(-1)! - signalledAt).toBeLessThan(DRAIN_MS + 1_500);
      // No more than a few at any one moment.
      const firstHalf = closedAt.filter((t) => t - closedAt[0]! < spread / 2).length;
      expect(firstHalf).toBeLessThan(clients.length);
      for (const client of clients) expect((await client.closed).reason).not.toBe('');

      const exit = await herald.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(TIMEOUT_MS);
    } finally {
      await herald.stop('SIGKILL');
    }
  });

  it('a node with a single connection closes it at once but keeps refusing (503) until the drain period ends', async () => {
    const herald = await startHerald({ waitReady: true, env: { SHUTDOWN_DRAIN_PERIOD: '1s', SHUTDOWN_TIMEOUT: '5s' } });
    try {
      const client = await TestClient.open(herald.wsUrl, { token: clientToken() });
      const signalledAt = Date.now();
      herald.child.kill('SIGTERM');
      expect((await client.closed).code).toBe(1001);
      // The client left; a reconnect to this node meets a refusal, not a dead port.
      expect((await httpGet(`${herald.url}/readyz`)).status).toBe(503);
      const refused = await refusedHandshake(herald.wsUrl, { token: clientToken() });
      expect(refused.status).toBe(503);
      const exit = await herald.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(900);
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
    } finally {
      await herald.stop('SIGKILL');
    }
  });

  it('an idle node has nothing to drain: it exits 0 at once', async () => {
    const herald = await startHerald({ waitReady: true, env: { SHUTDOWN_DRAIN_PERIOD: '10s', SHUTDOWN_TIMEOUT: '20s' } });
    try {
      const signalledAt = Date.now();
      const exit = await herald.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
    } finally {
      await herald.stop('SIGKILL');
    }
  });

  it('a connection that ignores the close handshake does not hold the exit past SHUTDOWN_TIMEOUT', async () => {
    const herald = await startHerald({ waitReady: true, env: { SHUTDOWN_DRAIN_PERIOD: '300ms', SHUTDOWN_TIMEOUT: '5s' } });
    try {
      const stuck = await TestClient.open(herald.wsUrl, { token: clientToken() });
      // The client stops reading: it never answers the close frame.
      (stuck.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const healthy = await TestClient.open(herald.wsUrl, { token: clientToken() });
      const signalledAt = Date.now();
      herald.child.kill('SIGTERM');
      expect((await healthy.closed).code).toBe(1001);
      const exit = await herald.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
      (stuck.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      expect([1001, 1006]).toContain((await stuck.closed).code);
    } finally {
      await herald.stop('SIGKILL');
    }
  });
});
