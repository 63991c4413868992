/**
 * PROTOCOL.md section 5: protocol pings, the read timeout, the write timeout and the
 * slow-consumer limit; a slow or dead connection never delays the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { metricValue, waitForMetric } from '../support/http.js';
import { paymentCreated, publishBatch } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const PING_MS = 200;
const READ_TIMEOUT_MS = 800;

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({ env: { WEBSOCKET_PING_INTERVAL: `${PING_MS}ms`, WEBSOCKET_READ_TIMEOUT: `${READ_TIMEOUT_MS}ms` } });
});

afterAll(async () => {
  await herald?.stop();
});

describe('heartbeats', () => {
  it('the server sends a protocol ping every WEBSOCKET_PING_INTERVAL', async () => {
    const client = await TestClient.open(herald.wsUrl, { token: clientToken() });
    const openedAt = Date.now();
    const pings = await client.waitForPings(4, 5 * PING_MS + 2_000);
    // Four pings take about three intervals after the first: neither much faster nor slower.
    const span = pings[3]! - pings[0]!;
    expect(span).toBeGreaterThanOrEqual(3 * PING_MS * 0.6);
    expect(span).toBeLessThan(3 * PING_MS * 3);
    expect(pings[0]! - openedAt).toBeLessThan(PING_MS * 3);
    await client.close();
  });

  it('a client that answers pings (and sends nothing else) stays connected beyond the read timeout', async () => {
    const client = await TestClient.open(herald.wsUrl, { token: clientToken() });
    const openedAt = Date.now();
    // Pings keep arriving for more than twice the read timeout: the connection lives.
    await client.waitForPings(Math.ceil((2 * READ_TIMEOUT_MS) / PING_MS) + 1, 6_000);
    expect(Date.now() - openedAt).toBeGreaterThan(2 * READ_TIMEOUT_MS * 0.8);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    expect((await client.request('ping')).type).toBe('pong');
    await client.close();
  });

  it('a client that does not answer pings and sends nothing is terminated after WEBSOCKET_READ_TIMEOUT', async () => {
    const silent = await TestClient.open(herald.wsUrl, { token: clientToken(), ws: { autoPong: false } });
    const healthy = await TestClient.open(herald.wsUrl, { token: clientToken() });
    const openedAt = Date.now();
    const { code } = await silent.closed;
    const elapsed = Date.now() - openedAt;
    // Terminated: the TCP connection is cut, no close frame (the client sees 1006).
    expect(code).toBe(1006);
    expect(silent.pings.length).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(READ_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(READ_TIMEOUT_MS + 1_500);
    // The healthy one, opened at the same time, is untouched.
    expect((await healthy.request('ping')).type).toBe('pong');
    await healthy.close();
  });

  it('a client that does not answer pings but sends commands stays connected', async () => {
    const client = await TestClient.open(herald.wsUrl, { token: clientToken(), ws: { autoPong: false } });
    const openedAt = Date.now();
    while (Date.now() - openedAt < 2 * READ_TIMEOUT_MS) {
      expect((await client.request('ping')).type).toBe('pong');
      await client.waitForPings(client.pings.length + 1);
    }
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    await client.close();
  });
});

describe('slow consumers', () => {
  it('a client that stops reading is closed, while a healthy client of the same channel keeps receiving everything promptly', async () => {
    const slowHerald = await startHerald({
      env: { MAX_BUFFERED_BYTES: '256KiB', WEBSOCKET_WRITE_TIMEOUT: '2s', WEBSOCKET_PING_INTERVAL: '1s', WEBSOCKET_READ_TIMEOUT: '30s' },
    });
    try {
      const merchant = `m_slow_${process.pid}`;
      const channel = `merchant:${merchant}`;
      const token = clientToken({ channels: [channel] });
      const slow = await TestClient.open(slowHerald.wsUrl, { token });
      const healthy = await TestClient.open(slowHerald.wsUrl, { token });
      await slow.subscribe(channel);
      await healthy.subscribe(channel);
      // The slow client stops reading: its kernel buffers fill, then the server's.
      (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

      const note = 'x'.repeat(8 * 1024);
      let closedSlow = false;
      const slowClosedLog = slowHerald
        .waitForLog((record) => record.msg === 'closing slow consumer', 60_000)
        .then(() => (closedSlow = true), () => undefined);
      let published = 0;
      let worstLagMs = 0;
      // Publish ~200 KB batches until the server gives up on the slow client (bounded).
      for (let batchNo = 0; batchNo < 200 && !closedSlow; batchNo++) {
        const batch = Array.from({ length: 24 }, () => paymentCreated(merchant));
        for (const event of batch) (event.data as Record<string, unknown>).note = note;
        const answer = await publishBatch(slowHerald.url, batch);
        expect(answer.status).toBe(207);
        published += batch.length;
        const sentAt = Date.now();
        await healthy.waitForEvents(published, channel, 5_000);
        worstLagMs = Math.max(worstLagMs, Date.now() - sentAt);
      }
      expect(closedSlow).toBe(true);
      // Once closed, the slow client is sent nothing more.
      const after = Array.from({ length: 5 }, () => paymentCreated(merchant));
      expect((await publishBatch(slowHerald.url, after)).status).toBe(207);
      published += after.length;
      await healthy.waitForEvents(published, channel, 5_000);
      // The healthy client got everything, each batch promptly, in order, once.
      const events = healthy.events(channel);
      expect(events).toHaveLength(published);
      expect(new Set(events.map((event) => event.id)).size).toBe(published);
      expect(worstLagMs).toBeLessThan(3_000);

      // The slow client learns it was cut when it reads again: 1008, or 1006 if the
      // write timeout terminated it first. Either way it did not get everything.
      (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      const { code } = await slow.closed;
      expect([1008, 1006]).toContain(code);
      const afterIds = new Set(after.map((event) => event.id));
      expect(slow.events(channel).filter((event) => afterIds.has(event.id))).toHaveLength(0);
      expect(slow.events(channel).length).toBeLessThan(published);
      await slowClosedLog;

      // The node still serves new connections and the healthy one.
      expect((await healthy.request('ping')).type).toBe('pong');
      await healthy.close();
    } finally {
      await slowHerald.stop();
    }
  });

  it('a paused client is terminated by WEBSOCKET_WRITE_TIMEOUT when its buffer never drains, even under MAX_BUFFERED_BYTES', async () => {
    const slowHerald = await startHerald({
      env: { MAX_BUFFERED_BYTES: '64MiB', WEBSOCKET_WRITE_TIMEOUT: '500ms', WEBSOCKET_PING_INTERVAL: '5s', WEBSOCKET_READ_TIMEOUT: '30s' },
    });
    try {
      const merchant = `m_stuck_${process.pid}`;
      const channel = `merchant:${merchant}`;
      const stuck = await TestClient.open(slowHerald.wsUrl, { token: clientToken({ channels: [channel] }) });
      await stuck.subscribe(channel);
      (stuck.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const note = 'y'.repeat(8 * 1024);
      // ~16 MB: more than the loopback kernel buffers hold, far less than MAX_BUFFERED_BYTES.
      for (let batchNo = 0; batchNo < 80; batchNo++) {
        const batch = Array.from({ length: 24 }, () => paymentCreated(merchant));
        for (const event of batch) (event.data as Record<string, unknown>).note = note;
        expect((await publishBatch(slowHerald.url, batch)).status).toBe(207);
      }
      const startedAt = Date.now();
      await waitForMetric(slowHerald.url, 'herald_edge_disconnects_total', { reason: 'write-timeout' }, (value) => value === 1, 10_000);
      expect(Date.now() - startedAt).toBeLessThan(5_000);
      expect(await metricValue(slowHerald.url, 'herald_edge_disconnects_total', { reason: 'slow-consumer' })).toBe(0);
      (stuck.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      const { code } = await stuck.closed;
      expect(code).toBe(1006);
    } finally {
      await slowHerald.stop();
    }
  });
});
