#!/usr/bin/env node
/**
 * `pnpm bench sizing`: the sizing model of docs/scaling.md, computed from the per-unit
 * costs measured by the benchmarks on this machine (bench/results/*.json), so the doc
 * changes when a measurement does. Writes the generated part of docs/scaling.md between
 * its markers and prints it.
 *
 * The model: a target load (connections, events/s, audience per event, channels per
 * event, connect rate), unit costs (CPU per delivery, per event received by an edge, per
 * connect, per publication on Redis; RSS per connection; bytes per frame), and a planning
 * utilisation (cores run at most at 60%). Each line shows its arithmetic.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, ROOT_DIR } from './lib/proc.mjs';

const load = (name) => {
  const file = join(BENCH_DIR, 'results', `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
};
const herald = (result, predicate = () => true) => result?.rows?.find((row) => row.system === 'herald' && predicate(row));

/** The target of the issue: a million connections and 50,000 events per second. */
export const TARGET = {
  connections: 1_000_000,
  eventsPerSec: 50_000,
  /** Connections that receive an average event (a merchant's open dashboards and back offices). */
  audience: 20,
  /** Channels per payment event: merchant, payment, order (the default routes). */
  channelsPerEvent: 3,
  /** Reconnect storm to plan for: every connection back within a minute (a zone lost). */
  stormSeconds: 60,
  /** Cores planned at this utilisation at most, leaving room for bursts and GC. */
  utilisation: 0.6,
  pingIntervalSeconds: 30,
};

/** Unit costs measured here, each with where it comes from. */
export function unitCosts() {
  const fanout = load('fanout');
  const channels = load('channels');
  const connect = load('connect');
  const idle = load('idle');
  const ingest = load('ingest');
  const wide = herald(fanout, (row) => row.subscribers === 10000 && row.batch === 10);
  // Two audiences on 1,000 channels: cost(a) = receive + a × write, fitted through both.
  const points = (channels?.rows ?? []).filter((row) => row.system === 'herald').map((row) => ({ a: row.subscribers / row.channels, us: row.serverCpuUsPerEvent }));
  const low = points.reduce((m, p) => (m === undefined || p.a < m.a ? p : m), undefined);
  const high = points.reduce((m, p) => (m === undefined || p.a > m.a ? p : m), undefined);
  const fitted = low && high && high.a > low.a;
  const writeUs = fitted ? (high.us - low.us) / (high.a - low.a) : undefined;
  const receiveUs = fitted ? low.us - low.a * writeUs : undefined;
  const connectRow = herald(connect);
  const idleRow = herald(idle, (row) => !row.compression);
  const payments = herald(ingest, (row) => String(row.mode).includes('payment.created') && row.topology !== 'redis-cluster');
  // Several masters means a Redis Cluster, where an event also costs its id's claim and
  // completion on another slot: the cluster's own cost per publication is the one to plan with.
  const clusterPayments = herald(ingest, (row) => String(row.mode).includes('payment.created') && row.topology === 'redis-cluster');
  const shards = ingest?.rows?.filter((row) => row.system === 'herald' && Number.isFinite(row.redisCpuUsPerPublication)) ?? [];
  const pointsText = points.map((p) => `${round(p.us)} µs per event at ${p.a} subscriber(s) per channel`).join(', ');
  return {
    receiveUs: { value: receiveUs, from: `channels (1,000 channels; ${pointsText}): the intercept, what an edge spends on each event it receives (Redis message, frame)` },
    writeUs: { value: writeUs, from: 'channels, the slope: each delivery that is its own socket write (a connection gets one event in a tick; on loopback the kernel also delivers it)' },
    coalescedDeliveryUs: { value: wide?.serverCpuUsPerDelivery, from: `fanout, 10,000 subscribers of one channel, 10 events per publish: ${wide?.serverCpuUsPerDelivery} µs per delivery when frames share writes` },
    connectUs: { value: connectRow?.serverCpuUsPerConnection, from: `connect, one edge process with Redis admission: ${connectRow?.serverCpuUsPerConnection} µs per new connection (best round)` },
    rssPerConnection: { value: idleRow?.rssPerConnectionAfterEventBytes, from: `idle, ${idleRow?.connections?.toLocaleString('en-US')} connections with one subscription, after one event: ${idleRow?.rssPerConnectionAfterEventBytes} B RSS per connection` },
    ingestEventUs: { value: payments?.ingestCpuUsPerEvent, from: `ingest, payment.created to 3 channels in batches of 100: ${payments?.ingestCpuUsPerEvent} µs of ingest CPU per event` },
    redisPublicationUs: clusterPayments && Number.isFinite(clusterPayments.redisCpuUsPerPublication)
      ? { value: clusterPayments.redisCpuUsPerPublication, from: `ingest, payment.created (3 channels) in batches of 100 on a 3-master Redis Cluster: ${round(clusterPayments.redisCpuUsPerPublication)} µs of Redis CPU per publication, summed over the masters (one Redis: ${round(payments?.redisCpuUsPerPublication ?? NaN)} µs)` }
      : {
          value: payments ? ((payments.redisCpuPercent / 100 / payments.eventsPerSec) * 1e6) / 3 : undefined,
          from: payments ? `ingest, same run: Redis at ${payments.redisCpuPercent}% of a core for ${payments.eventsPerSec.toLocaleString('en-US')} events/s of 3 channels` : 'ingest (not measured)',
        },
    shards,
    frameBytes: { value: 264, from: 'a payment.created envelope of the contract (258 B of JSON) and its 6-byte frame header' },
  };
}

const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const int = (value) => Math.ceil(value).toLocaleString('en-US');

/**
 * Edge workers needed: each event is received by every worker holding one of its
 * audience (placement by load balancer is random, so with w workers an event of audience
 * a reaches w × (1 − (1 − 1/w)^a) of them), then written once per audience member.
 */
function edgeWorkers(target, costs) {
  const connectCores = ((target.connections / target.stormSeconds) * costs.connectUs.value) / 1e6;
  for (let workers = 1; workers <= 100_000; workers += workers < 100 ? 1 : 10) {
    const reached = workers * (1 - (1 - 1 / workers) ** target.audience);
    const cores = (target.eventsPerSec * (reached * costs.receiveUs.value + target.audience * costs.writeUs.value)) / 1e6 + connectCores;
    if (cores / workers <= target.utilisation) return { workers, reached, cores, connectCores };
  }
  return undefined;
}

export function model(target = TARGET, costs = unitCosts()) {
  const missing = Object.entries(costs).filter(([key, cost]) => key !== 'shards' && (cost.value === undefined || Number.isNaN(cost.value)));
  if (missing.length > 0) return { missing: missing.map(([key]) => key) };
  const deliveries = target.eventsPerSec * target.audience;
  const lines = [];
  const edge = edgeWorkers(target, costs);
  lines.push(['deliveries per second', `${int(target.eventsPerSec)} events/s × ${target.audience} connections`, int(deliveries)]);
  if (edge) {
    lines.push(['edge CPU to receive events', `${int(target.eventsPerSec)} × ${round(edge.reached)} workers reached × ${round(costs.receiveUs.value)} µs`, `${round((target.eventsPerSec * edge.reached * costs.receiveUs.value) / 1e6)} cores`]);
    lines.push(['edge CPU to write deliveries (none coalesced)', `${int(deliveries)} × ${round(costs.writeUs.value)} µs`, `${round((deliveries * costs.writeUs.value) / 1e6)} cores`]);
    lines.push(['edge CPU for a reconnect storm', `${int(target.connections / target.stormSeconds)} connects/s × ${round(costs.connectUs.value, 0)} µs`, `${round(edge.connectCores)} cores`]);
    lines.push(['edge workers (1 core each, ≤60% busy)', `${round(edge.cores)} cores ÷ 0.6`, `${edge.workers} workers: ${Math.ceil(edge.workers / 4)} pods of 4 cores (EDGE_WORKERS=4), ${int(target.connections / edge.workers)} connections per worker`]);
  }
  const rssGiB = (target.connections * costs.rssPerConnection.value) / 2 ** 30;
  lines.push(['edge memory', `${int(target.connections)} × ${int(costs.rssPerConnection.value)} B + ~75 MiB per worker`, `${round(rssGiB + ((edge?.workers ?? 0) * 75) / 1024)} GiB`]);
  const ingestCores = (target.eventsPerSec * costs.ingestEventUs.value) / 1e6;
  lines.push(['ingest CPU (batches of 100)', `${int(target.eventsPerSec)} × ${round(costs.ingestEventUs.value)} µs`, `${round(ingestCores)} cores → ${Math.ceil(ingestCores / target.utilisation / 2)} pods of 2 cores`]);
  const publications = target.eventsPerSec * target.channelsPerEvent;
  const redisCores = (publications * costs.redisPublicationUs.value) / 1e6;
  const shards = Math.ceil(redisCores / target.utilisation);
  lines.push(['Redis publications per second', `${int(target.eventsPerSec)} × ${target.channelsPerEvent} channels`, int(publications)]);
  lines.push(['Redis CPU on a Redis Cluster (one thread per master)', `${int(publications)} × ${round(costs.redisPublicationUs.value)} µs`, `${round(redisCores)} cores → ${shards} masters at ≤60% (+ one replica each)`]);
  const historySeconds = 600;
  const entryBytes = 400;
  lines.push(['Redis memory for history (HISTORY_TTL 10m)', `${int(publications)} entries/s × ${historySeconds} s × ~${entryBytes} B`, `${round((publications * historySeconds * entryBytes) / 2 ** 30)} GiB over the masters`]);
  const egress = (deliveries * costs.frameBytes.value * 8) / 1e9;
  lines.push(['edge egress', `${int(deliveries)} × ${costs.frameBytes.value} B`, `${round(egress, 2)} Gbit/s (+ TCP/IP overhead)`]);
  lines.push(['heartbeats', `${int(target.connections)} ÷ ${target.pingIntervalSeconds} s`, `${int(target.connections / target.pingIntervalSeconds)} pings/s`]);
  return { lines, edge, shards };
}

function markdown() {
  const costs = unitCosts();
  const result = model(TARGET, costs);
  const out = [];
  out.push(`Target: ${TARGET.connections.toLocaleString('en-US')} connections, ${TARGET.eventsPerSec.toLocaleString('en-US')} events/s, each event seen by ${TARGET.audience} connections on average and routed to ${TARGET.channelsPerEvent} channels; a reconnect storm of every connection within ${TARGET.stormSeconds} s; cores planned at ≤${TARGET.utilisation * 100}% busy.`);
  out.push('');
  out.push('Unit costs measured on this machine (2 cores; see docs/benchmarks.md for each run):');
  out.push('');
  out.push('| unit cost | value | measured by |');
  out.push('|---|--:|---|');
  for (const [key, cost] of Object.entries(costs)) {
    if (key === 'shards') continue;
    out.push(`| ${key} | ${cost.value === undefined ? '–' : round(cost.value, 3)} | ${cost.from} |`);
  }
  if (costs.shards.length > 0) {
    out.push('');
    out.push('Redis CPU per publication, one Redis against a 3-master Redis Cluster (the same `pnpm bench ingest` run):');
    out.push('');
    out.push('| topology | events/s | Redis CPU µs per publication |');
    out.push('|---|--:|--:|');
    for (const row of costs.shards) out.push(`| ${row.topology === 'redis-cluster' ? '3-shard cluster' : 'one Redis'}, ${row.mode} | ${row.eventsPerSec.toLocaleString('en-US')} | ${round(row.redisCpuUsPerPublication)} |`);
  }
  out.push('');
  if (result.missing) {
    out.push(`Not computed: no measurement yet for ${result.missing.join(', ')} (run \`pnpm bench all\`).`);
  } else {
    out.push('| quantity | arithmetic | result |');
    out.push('|---|---|--:|');
    for (const [what, how, value] of result.lines) out.push(`| ${what} | ${how} | ${value} |`);
  }
  return out.join('\n');
}

const START = '<!-- sizing:start (generated by bench/sizing.mjs from bench/results) -->';
const END = '<!-- sizing:end -->';

/** Rewrites the generated part of docs/scaling.md; returns it. */
export function writeSizing() {
  const text = markdown();
  const file = join(ROOT_DIR, 'docs', 'scaling.md');
  if (existsSync(file)) {
    const doc = readFileSync(file, 'utf8');
    const from = doc.indexOf(START);
    const to = doc.indexOf(END);
    if (from !== -1 && to !== -1) writeFileSync(file, `${doc.slice(0, from + START.length)}\n${text}\n${doc.slice(to)}`);
  }
  return text;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${writeSizing()}\n`);
