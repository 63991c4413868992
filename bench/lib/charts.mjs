/**
 * The SVG charts of each scenario's result: [{suffix, svg}], written next to the JSON
 * as bench/results/<scenario><suffix>.svg.
 */
import { PALETTE, groupedBars, lines, seriesFor, timeLines } from './svg.mjs';

export const LABELS = { herald: 'Herald', 'herald-pb': 'Herald (protobuf clients)', 'herald-2w': 'Herald (EDGE_WORKERS=2)', raw: 'raw ws (ceiling)', sio: 'Socket.IO 4' };
const ORDER = ['herald', 'herald-pb', 'herald-2w', 'raw', 'sio'];

function systemsOf(rows) {
  return ORDER.filter((s) => rows.some((r) => r.system === s));
}

function machineLine(result) {
  const m = result.machine;
  return `${m.cores} × ${m.cpu}, Node ${m.node}, ${result.date.slice(0, 10)}${result.quick ? ' (quick run)' : ''}`;
}

export function chartsFor(result) {
  const rows = result.rows ?? [];
  if (rows.length === 0) return [];
  const systems = systemsOf(rows);
  const series = seriesFor(systems, LABELS);
  const sub = machineLine(result);
  switch (result.scenario) {
    case 'fanout': {
      const sizes = [...new Set(rows.map((r) => r.subscribers))].sort((a, b) => a - b);
      const batches = [...new Set(rows.map((r) => r.batch))].sort((a, b) => a - b);
      const at = (system, size, batch, field) => rows.find((r) => r.system === system && r.subscribers === size && r.batch === batch)?.[field];
      const primary = batches.includes(10) ? 10 : batches[0];
      const largest = sizes[sizes.length - 1];
      const out = [
        {
          suffix: '',
          svg: lines({
            title: `fanout: deliveries per second vs subscribers (one channel, ${primary} events per publish)`,
            subtitle: sub,
            xLabel: 'subscribers on the channel (connections to one edge process)',
            yLabel: 'deliveries per second',
            xTicks: sizes.map(String),
            series: series.map((s) => ({ ...s, points: sizes.map((size) => [String(size), at(s.system, size, primary, 'deliveriesPerSec')]) })),
          }),
        },
        {
          suffix: '-cpu',
          svg: groupedBars({
            title: `fanout: server CPU per delivery, ${largest} subscribers (lower is better)`,
            subtitle: sub,
            yLabel: 'µs of edge CPU per delivery',
            groups: batches.map((batch) => ({ label: `${batch} event${batch > 1 ? 's' : ''} per publish`, values: systems.map((s) => at(s, largest, batch, 'serverCpuUsPerDelivery')) })),
            series,
          }),
        },
      ];
      if (batches.length > 1) {
        out.push({
          suffix: '-batch',
          svg: lines({
            title: `fanout: deliveries per second vs events per publish (${largest} subscribers)`,
            subtitle: sub,
            xLabel: 'events per publish request (how many frames can share one write)',
            yLabel: 'deliveries per second',
            xTicks: batches.map(String),
            series: series.map((s) => ({ ...s, points: batches.map((batch) => [String(batch), at(s.system, largest, batch, 'deliveriesPerSec')]) })),
          }),
        });
      }
      return out;
    }
    case 'channels': {
      const at = (system, field) => rows.find((r) => r.system === system)?.[field];
      return [
        {
          suffix: '',
          svg: groupedBars({
            title: `channels: ${rows[0].subscribers} connections on ${rows[0].channels} channels`,
            subtitle: sub,
            yLabel: 'deliveries per second',
            groups: [{ label: 'deliveries per second', values: systems.map((s) => at(s, 'deliveriesPerSec')) }],
            series,
          }),
        },
        {
          suffix: '-cpu',
          svg: groupedBars({
            title: 'channels: edge CPU per delivery (lower is better)',
            subtitle: sub,
            yLabel: 'µs of edge CPU per delivery',
            groups: [{ label: 'µs per delivery', values: systems.map((s) => at(s, 'serverCpuUsPerDelivery')) }],
            series,
          }),
        },
      ];
    }
    case 'latency': {
      const qs = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p99.9', 'p999'], ['max', 'max']];
      return [
        {
          suffix: '',
          svg: lines({
            title: `latency: ingest HTTP to client, ${rows[0].nodes} edges on Redis, ${rows[0].connections} connections, ${rows[0].targetRate} events/s`,
            subtitle: sub,
            xLabel: 'percentile',
            yLabel: 'milliseconds (log scale)',
            xTicks: qs.map(([label]) => label),
            logY: true,
            series: series.map((s) => ({ ...s, points: qs.map(([label, key]) => [label, rows.find((r) => r.system === s.system)?.latencyMs?.[key]]) })),
          }),
        },
      ];
    }
    case 'idle': {
      const variants = [...new Set(rows.map((r) => r.compression))];
      return [
        {
          suffix: '',
          svg: groupedBars({
            title: `idle: memory per connection (${rows[0].connections} idle connections, one subscription each)`,
            subtitle: sub,
            yLabel: 'KiB per connection',
            groups: [
              { label: 'RSS, idle', values: systems.map((s) => rows.find((r) => r.system === s && !r.compression)?.rssPerConnectionBytes / 1024) },
              { label: 'heap, idle', values: systems.map((s) => rows.find((r) => r.system === s && !r.compression)?.heapPerConnectionBytes / 1024) },
              { label: 'RSS after 1 event', values: systems.map((s) => rows.find((r) => r.system === s && !r.compression)?.rssPerConnectionAfterEventBytes / 1024) },
            ],
            series,
          }),
        },
        ...(variants.includes(true)
          ? [
              {
                suffix: '-compression',
                svg: groupedBars({
                  title: 'idle + permessage-deflate: RSS per connection after one 1.5 KB event',
                  subtitle: sub,
                  yLabel: 'KiB per connection',
                  groups: [
                    { label: 'without compression', values: systems.map((s) => rows.find((r) => r.system === s && !r.compression)?.rssPerConnectionAfterEventBytes / 1024) },
                    { label: 'with compression', values: systems.map((s) => rows.find((r) => r.system === s && r.compression)?.rssPerConnectionAfterEventBytes / 1024) },
                  ],
                  series,
                }),
              },
            ]
          : []),
      ];
    }
    case 'connect':
      return [
        {
          suffix: '',
          svg: groupedBars({
            title: 'connect: new connections per second into one node (JWT + Redis admission)',
            subtitle: sub,
            yLabel: 'connections per second (best round)',
            groups: [{ label: 'connections per second', values: systems.map((s) => rows.find((r) => r.system === s)?.connectionsPerSec) }],
            series,
          }),
        },
      ];
    case 'ingest': {
      const modes = [...new Set(rows.map((r) => r.mode))];
      // Herald on a Redis Cluster is a series of its own next to Herald on one Redis.
      const key = (r) => (r.topology === 'redis-cluster' ? `${r.system}-cluster` : r.system);
      const keys = [...systems.slice(0, 1), ...(rows.some((r) => key(r) === 'herald-cluster') ? ['herald-cluster'] : []), ...systems.slice(1)];
      const series = seriesFor(keys, { herald: 'Herald ingest (one Redis)', 'herald-cluster': 'Herald ingest (3-shard cluster)', raw: 'HTTP → PUBLISH (raw)', sio: 'HTTP → Socket.IO emitter' });
      return [
        {
          suffix: '',
          svg: groupedBars({
            title: 'ingest: events per second accepted by one process (Redis)',
            subtitle: sub,
            yLabel: 'events per second',
            groups: modes.map((mode) => ({ label: mode.length > 30 ? `${mode.slice(0, 28)}…` : mode, values: keys.map((k) => rows.find((r) => key(r) === k && r.mode === mode)?.eventsPerSec) })),
            series,
          }),
        },
      ];
    }
    case 'soak': {
      // Over time, one line per edge: memory that only goes up is what the soak is for.
      const samples = result.samples ?? [];
      const edges = rows.map((r) => r.edge);
      const perEdge = (field, scale = 1) =>
        edges.map((edge, i) => ({ name: `edge ${edge}`, color: PALETTE[i % PALETTE.length], points: samples.map((s) => [s.t, s.edges[i]?.[field] === null ? NaN : s.edges[i]?.[field] / scale]) }));
      const what = `${result.options.nodes} edges, ${result.options.connections} connections, ${result.options.rate} events/s, ${Math.round(result.options.churnShare * 100)}% churn/s`;
      return [
        { suffix: '-rss', svg: timeLines({ title: `soak: RSS per edge (${what})`, subtitle: sub, yLabel: 'RSS MiB', series: perEdge('rss', 2 ** 20), zero: false }) },
        {
          suffix: '-heap',
          svg: timeLines({
            title: 'soak: V8 heap per edge, used (solid) and reserved (dashed)',
            subtitle: sub,
            yLabel: 'MiB',
            // Runs sampled before heapTotal was recorded draw the used line alone.
            series: [...perEdge('heapUsed', 2 ** 20), ...perEdge('heapTotal', 2 ** 20).map((s) => ({ ...s, name: `${s.name} reserved`, dashed: true }))],
            zero: false,
          }),
        },
        { suffix: '-lag', svg: timeLines({ title: 'soak: delivery lag per edge (publish to send, mean over each 10 s)', subtitle: sub, yLabel: 'ms', series: perEdge('deliveryLagMeanMs') }) },
        { suffix: '-loop', svg: timeLines({ title: 'soak: event-loop delay per edge (p99)', subtitle: sub, yLabel: 'ms', series: perEdge('eventLoopDelayP99Ms') }) },
      ];
    }
    default:
      return [];
  }
}
