#!/usr/bin/env node
// Generates herald-dashboard.json (Grafana 10+ schema) from the list of panels below,
// so every panel's query names a metric the services really export (checked by
// test/metrics.test.ts against a live /metrics).
import { writeFileSync } from 'node:fs';

const panels = [
  ['Connections per node', 'timeseries', 'sum by (node) (herald_edge_connections)', 'short'],
  ['Subscriptions per node', 'timeseries', 'sum by (node) (herald_edge_subscriptions)', 'short'],
  ['Deliveries per second', 'timeseries', 'sum by (node) (rate(herald_edge_deliveries_total[1m]))', 'ops'],
  ['Publish-to-deliver lag p50 / p99', 'timeseries', [
    'histogram_quantile(0.5, sum by (le) (rate(herald_edge_delivery_lag_seconds_bucket[5m])))',
    'histogram_quantile(0.99, sum by (le) (rate(herald_edge_delivery_lag_seconds_bucket[5m])))',
  ], 's'],
  ['Lag p99 by event type', 'timeseries', 'histogram_quantile(0.99, sum by (le, type) (rate(herald_edge_delivery_lag_seconds_bucket[5m])))', 's'],
  ['Admissions refused by reason', 'timeseries', 'sum by (reason) (rate(herald_edge_admissions_refused_total[5m]))', 'ops'],
  ['Handshakes refused by problem', 'timeseries', 'sum by (reason) (rate(herald_edge_handshakes_refused_total[5m]))', 'ops'],
  ['Disconnects by reason (slow consumers, timeouts...)', 'timeseries', 'sum by (reason) (rate(herald_edge_disconnects_total[5m]))', 'ops'],
  ['Recoveries by result', 'timeseries', 'sum by (result) (rate(herald_edge_recoveries_total[5m]))', 'ops'],
  ['Gap fills after broker reconnects', 'timeseries', 'sum by (result) (increase(herald_edge_gap_fills_total[5m]))', 'short'],
  ['Broker connected', 'stat', 'min by (node) (herald_broker_connected)', 'short'],
  ['Admission degraded (Redis unreachable)', 'stat', 'max by (node) (herald_admission_degraded)', 'short'],
  ['Ingest accepted per second by type', 'timeseries', 'sum by (type) (rate(herald_ingest_events_accepted_total[1m]))', 'ops'],
  ['Ingest rejected by problem', 'timeseries', 'sum by (problem) (rate(herald_ingest_events_rejected_total[5m]))', 'ops'],
  ['Ingest duplicates', 'timeseries', 'sum (rate(herald_ingest_duplicates_total[5m]))', 'ops'],
  ['Ingest publish time p99', 'timeseries', 'histogram_quantile(0.99, sum by (le, source) (rate(herald_ingest_publish_seconds_bucket[5m])))', 's'],
  ['Event loop lag p99', 'timeseries', 'max by (node) (herald_nodejs_eventloop_lag_p99_seconds)', 's'],
  ['Resident memory', 'timeseries', 'max by (node) (herald_process_resident_memory_bytes)', 'bytes'],
];

const dashboard = {
  title: 'Herald',
  uid: 'herald-overview',
  tags: ['herald', 'websocket'],
  timezone: 'utc',
  schemaVersion: 39,
  version: 1,
  refresh: '10s',
  time: { from: 'now-1h', to: 'now' },
  templating: {
    list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }],
  },
  panels: panels.map(([title, type, queries, unit], index) => ({
    id: index + 1,
    title,
    type,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: (Array.isArray(queries) ? queries : [queries]).map((expr, i) => ({
      refId: String.fromCharCode(65 + i),
      expr,
      datasource: { type: 'prometheus', uid: '${datasource}' },
    })),
  })),
};

writeFileSync(new URL('./herald-dashboard.json', import.meta.url), `${JSON.stringify(dashboard, null, 2)}\n`);
