/**
 * Draws the cluster: totals, the two charts and the nodes table, from ClusterView.
 * Text goes in with textContent; only the charts build markup (numbers only).
 */
import type { ClusterTotals, HistoryPoint, NodeRow } from '../src/stats/aggregate.js';
import { formatNumber, lineChart } from './chart.js';

const IN_COLOR = '#1f6feb';
const OUT_COLOR = '#d9480f';
const P50_COLOR = '#1a7f37';
const P99_COLOR = '#8250df';

export function drawDashboard(totals: ClusterTotals, rows: readonly NodeRow[], history: readonly HistoryPoint[], points: number): void {
  setText('t-nodes', String(totals.nodes));
  setText('t-connections', String(totals.connections));
  setText('t-subscriptions', String(totals.subscriptions));
  setText('t-in', formatNumber(totals.inPerSecond));
  setText('t-out', formatNumber(totals.outPerSecond));
  setText('t-p50', formatMs(totals.p50Ms));
  setText('t-p99', formatMs(totals.p99Ms));
  setText('t-slow', String(totals.slowConsumerCloses));
  lineChart(
    element('chart-rates'),
    [
      { name: 'in', color: IN_COLOR, values: history.map((point) => point.inPerSecond) },
      { name: 'out', color: OUT_COLOR, values: history.map((point) => point.outPerSecond) },
    ],
    points,
    '/s',
  );
  lineChart(
    element('chart-lag'),
    [
      { name: 'p50', color: P50_COLOR, values: history.map((point) => point.p50Ms) },
      { name: 'p99', color: P99_COLOR, values: history.map((point) => point.p99Ms) },
    ],
    points,
    ' ms',
  );
  drawNodes(rows);
}

function drawNodes(rows: readonly NodeRow[]): void {
  const body = element('nodes').querySelector('tbody')!;
  const lines = rows.map((row) => {
    const tr = document.createElement('tr');
    tr.dataset.node = row.node;
    const state = row.draining ? 'draining' : row.brokerUp ? 'live' : 'broker down';
    const cells = [
      row.node,
      String(row.connections),
      String(row.subscriptions),
      String(row.channels),
      formatNumber(row.inPerSecond),
      formatNumber(row.outPerSecond),
      formatMs(row.p50Ms, ''),
      formatMs(row.p99Ms, ''),
      String(row.slowConsumerCloses),
      state,
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  body.replaceChildren(...lines);
}

/** Lag as the tiles show it: no events in the interval is a dash, not zero. */
export function formatMs(value: number | undefined, unit = ' ms'): string {
  return value === undefined ? '–' : `${formatNumber(value)}${unit}`;
}

export function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

export function setText(id: string, text: string): void {
  element(id).textContent = text;
}
