/**
 * Measuring a running system: server CPU from /proc (the whole process: user and
 * kernel time, which on loopback includes TCP delivery to the receiving socket),
 * deliveries counted by the clients, over a window after a warm-up.
 */
import { readFileSync } from 'node:fs';
import { cpuSeconds, cpuSplit, rssBytes, sleep } from './proc.mjs';

/** Machine-wide busy CPU seconds (all cores), from /proc/stat. */
export function machineBusySeconds() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - idle) / 100;
}

/**
 * The box is shared: before measuring, wait (up to `maxWaitMs`) until what runs besides
 * the bench uses less than `threshold` of one core. Returns the background load seen.
 */
export async function waitForQuiet({ ownPids = [], progress, threshold = 0.15, maxWaitMs = 60_000 } = {}) {
  const started = Date.now();
  let warned = false;
  for (;;) {
    const own0 = ownCpu(ownPids);
    const busy0 = machineBusySeconds();
    await sleep(1000);
    const background = machineBusySeconds() - busy0 - (ownCpu(ownPids) - own0);
    if (background < threshold) return background;
    if (Date.now() - started > maxWaitMs) {
      progress?.(`machine still busy (${Math.round(background * 100)}% of a core used by other processes); measuring anyway`);
      return background;
    }
    if (!warned) {
      progress?.(`waiting for the machine to be quiet: other processes use ${Math.round(background * 100)}% of a core`);
      warned = true;
    }
  }
}

function ownCpu(pids) {
  let total = (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
  for (const pid of pids) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // exited
    }
  }
  return total;
}

/**
 * Runs a closed loop for `warmupMs + measureMs`: the publisher may be ahead of the
 * deliveries by `windowMs` worth of the current delivery rate (at least `minAhead`
 * deliveries, enough for two publish requests), so every system is kept equally busy
 * (about the same queueing delay) and no queue grows without bound.
 */
export async function closedLoop({ fleet, publisher, fanout, windowMs = 200, minAhead, warmupMs, measureMs, serverPids, otherPids = [], progress, label }) {
  // Credit counts from this publisher's start: frames of earlier runs on the same clients do not count.
  const frames0 = fleet.frames;
  const history = [[performance.now(), 0]];
  let rate = 0;
  const grant = () => {
    const delivered = fleet.frames - frames0;
    const now = performance.now();
    const last = history[history.length - 1];
    if (now - last[0] >= 100) {
      history.push([now, delivered]);
      if (history.length > 6) history.shift();
      const first = history[0];
      rate = ((delivered - first[1]) / (now - first[0])) * 1000;
    }
    const ahead = Math.max(minAhead, (rate * windowMs) / 1000);
    publisher.credit(Math.floor((delivered + ahead) / fanout));
  };
  const off = fleet.onReport(grant);
  grant();
  const tick = setInterval(grant, 20);
  await sleep(warmupMs);
  fleet.latency.drain();
  const start = snapshot(fleet, publisher, serverPids, otherPids);
  const end = await watch({ fleet, publisher, serverPids, otherPids, measureMs, progress, label, start });
  clearInterval(tick);
  off();
  return summarize(start, end, fleet);
}

/** Open loop: the publisher runs at its own rate (rate or max mode). */
export async function openLoop({ fleet, publisher, warmupMs, measureMs, serverPids, otherPids = [], progress, label }) {
  await sleep(warmupMs);
  fleet?.latency.drain();
  publisher.request.drain();
  const start = snapshot(fleet, publisher, serverPids, otherPids);
  const end = await watch({ fleet, publisher, serverPids, otherPids, measureMs, progress, label, start });
  return summarize(start, end, fleet);
}

function snapshot(fleet, publisher, serverPids, otherPids = []) {
  return {
    at: performance.now(),
    frames: fleet ? fleet.frames : 0,
    bytes: fleet ? fleet.bytes : 0,
    accepted: publisher ? publisher.accepted : 0,
    serverCpu: serverPids.map((pid) => cpuSeconds(pid)),
    serverSystem: serverPids.map((pid) => cpuSplit(pid).system),
    extraCpu: otherPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    loadCpu: fleet ? fleet.cpuSeconds() : 0,
    machineBusy: machineBusySeconds(),
    selfCpu: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    publisherCpu: publisher ? publisher.cpuSeconds() : 0,
  };
}

async function watch({ fleet, publisher, serverPids, otherPids, measureMs, progress, label, start }) {
  const until = start.at + measureMs;
  let previous = start;
  while (performance.now() < until) {
    await sleep(Math.min(1000, until - performance.now()));
    const now = snapshot(fleet, publisher, serverPids, otherPids);
    const seconds = (now.at - previous.at) / 1000;
    if (seconds < 0.3) break;
    const cpu = now.serverCpu.reduce((a, b) => a + b, 0) - previous.serverCpu.reduce((a, b) => a + b, 0);
    const parts = [];
    if (fleet) parts.push(`${fmt((now.frames - previous.frames) / seconds)} deliveries/s`);
    if (publisher) parts.push(`${fmt((now.accepted - previous.accepted) / seconds)} events/s`);
    parts.push(`server CPU ${Math.round((cpu / seconds) * 100)}%`);
    if (fleet) parts.push(`clients CPU ${Math.round(((now.loadCpu - previous.loadCpu) / seconds) * 100)}%`);
    progress?.(`${label}: ${parts.join(', ')}`);
    previous = now;
  }
  if (fleet) await fleet.refresh();
  return snapshot(fleet, publisher, serverPids, otherPids);
}

function extraCpu(snap) {
  return snap.extraCpu ?? 0;
}

function summarize(start, end, fleet) {
  const seconds = (end.at - start.at) / 1000;
  const deliveries = end.frames - start.frames;
  const events = end.accepted - start.accepted;
  const serverCpu = end.serverCpu.map((cpu, i) => cpu - start.serverCpu[i]);
  const serverCpuTotal = serverCpu.reduce((a, b) => a + b, 0);
  return {
    seconds: round(seconds, 2),
    deliveries,
    deliveriesPerSec: Math.round(deliveries / seconds),
    bytesPerDelivery: deliveries > 0 ? round((end.bytes - start.bytes) / deliveries, 1) : null,
    events,
    eventsPerSec: Math.round(events / seconds),
    serverCpuPercent: serverCpu.map((cpu) => Math.round((cpu / seconds) * 100)),
    serverKernelShare: serverCpuTotal > 0 ? round(end.serverSystem.reduce((a, b) => a + b, 0) - start.serverSystem.reduce((a, b) => a + b, 0), 3) / round(serverCpuTotal, 3) : null,
    serverCpuUsPerDelivery: deliveries > 0 ? round((serverCpuTotal * 1e6) / deliveries, 3) : null,
    serverCpuUsPerEvent: events > 0 ? round((serverCpuTotal * 1e6) / events, 1) : null,
    loadGeneratorCpuPercent: Math.round(((end.loadCpu - start.loadCpu) / seconds) * 100),
    publisherCpuPercent: Math.round(((end.publisherCpu - start.publisherCpu) / seconds) * 100),
    otherCpuPercent: Math.round(((extraCpu(end) - extraCpu(start)) / seconds) * 100),
    // Busy CPU of the whole machine not used by the bench's own processes (other work on a shared box).
    backgroundCpuPercent: Math.max(0, Math.round(((end.machineBusy - start.machineBusy - serverCpuTotal - (end.loadCpu - start.loadCpu) - (end.publisherCpu - start.publisherCpu) - (end.selfCpu - start.selfCpu) - (extraCpu(end) - extraCpu(start))) / seconds) * 100)),
    latencyMs: fleet ? fleet.latency.summaryMs() : undefined,
    clientErrors: fleet ? fleet.errors : 0,
    clientsLive: fleet ? fleet.live : 0,
  };
}

export function serverRss(pids) {
  return pids.map((pid) => rssBytes(pid));
}

export function fmt(n) {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

export function round(n, digits) {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
