/**
 * /metrics during an end-to-end run: the connection and subscription gauges move with
 * clients, the publish-to-deliver lag histogram fills per event type, refusals and
 * ingest outcomes are counted, and every metric the Grafana dashboard queries exists.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from './support/herald.js';
import { httpGet, metricValue } from './support/http.js';
import { paymentCreated, publish, publishBatch } from './support/ingest.js';
import { clientToken } from './support/tokens.js';
import { TestClient, refusedHandshake } from './support/ws-client.js';

describe('metrics', () => {
  let herald: HeraldProcess;
  beforeAll(async () => {
    herald = await startHerald({ env: { MAX_CONNECTIONS: '3' } });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('moves the connection and subscription gauges with clients', async () => {
    expect(await metricValue(herald.url, 'herald_edge_connections')).toBe(0);
    const token = clientToken({ channels: ['merchant:m_metrics'] });
    const a = await TestClient.open(herald.wsUrl, { token });
    const b = await TestClient.open(herald.wsUrl, { token });
    await a.subscribe('merchant:m_metrics');
    expect(await metricValue(herald.url, 'herald_edge_connections')).toBe(2);
    expect(await metricValue(herald.url, 'herald_edge_subscriptions')).toBe(1);
    expect(await metricValue(herald.url, 'herald_edge_channels')).toBe(1);
    await b.close();
    await a.request('unsubscribe', { channel: 'merchant:m_metrics' });
    expect(await metricValue(herald.url, 'herald_edge_subscriptions')).toBe(0);
    await a.close();
  });

  it('fills the lag histogram per event type and counts deliveries', async () => {
    const token = clientToken({ channels: ['merchant:m_lag'] });
    const client = await TestClient.open(herald.wsUrl, { token });
    await client.subscribe('merchant:m_lag');
    const before = await metricValue(herald.url, 'herald_edge_delivery_lag_seconds_count', { type: 'payment.created' });
    const deliveriesBefore = await metricValue(herald.url, 'herald_edge_deliveries_total');
    const events = Array.from({ length: 5 }, () => paymentCreated('m_lag'));
    expect((await publishBatch(herald.url, events)).status).toBe(207);
    await client.waitForEvents(5, 'merchant:m_lag');
    expect(await metricValue(herald.url, 'herald_edge_delivery_lag_seconds_count', { type: 'payment.created' })).toBe(before + 5);
    expect(await metricValue(herald.url, 'herald_edge_delivery_lag_seconds_bucket', { type: 'payment.created', le: '+Inf' })).toBe(before + 5);
    expect(await metricValue(herald.url, 'herald_edge_deliveries_total')).toBe(deliveriesBefore + 5);
    await client.close();
  });

  it('counts refusals, ingest outcomes and duplicates', async () => {
    expect((await refusedHandshake(herald.wsUrl, {})).status).toBe(401);
    expect(await metricValue(herald.url, 'herald_edge_handshakes_refused_total', { reason: 'unauthorized' })).toBeGreaterThanOrEqual(1);

    const token = clientToken({ channels: [] });
    const open = await Promise.all([0, 1, 2].map(() => TestClient.open(herald.wsUrl, { token })));
    const refused = await TestClient.connect(herald.wsUrl, { token });
    expect((await refused.closed).code).toBe(1013);
    expect(await metricValue(herald.url, 'herald_edge_admissions_refused_total', { reason: 'global-limit' })).toBe(1);
    await Promise.all(open.map((c) => c.close()));

    const event = paymentCreated('m_ingest');
    expect((await publish(herald.url, event)).status).toBe(202);
    expect((await publish(herald.url, event)).status).toBe(202);
    expect((await publish(herald.url, { type: 'payment.created', data: {} })).status).toBe(422);
    expect(await metricValue(herald.url, 'herald_ingest_duplicates_total', { source: 'http' })).toBe(1);
    expect(await metricValue(herald.url, 'herald_ingest_events_rejected_total', { source: 'http', problem: '/problems/validation-failed' })).toBe(1);
    expect(await metricValue(herald.url, 'herald_ingest_events_accepted_total', { source: 'http', type: 'payment.created' })).toBeGreaterThanOrEqual(2);
    expect(await metricValue(herald.url, 'herald_broker_connected', { engine: 'memory' })).toBe(1);
  });

  it('exports every metric the Grafana dashboard queries', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../infra/grafana/herald-dashboard.json', import.meta.url), 'utf8'));
    const exposition = (await httpGet(`${herald.url}/metrics`)).text;
    const exported = new Set(exposition.split('\n').filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]));
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        for (const name of target.expr.match(/herald_[a-z0-9_]+/g) ?? []) queried.add(name.replace(/_(bucket|count|sum)$/, ''));
      }
    }
    expect(queried.size).toBeGreaterThan(10);
    for (const name of queried) expect(exported, name).toContain(name);
  });
});
