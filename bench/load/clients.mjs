/**
 * A load-generator process: holds up to a few thousand client connections (the
 * per-process file limit is 20,000), counts the frames they receive and samples
 * latency, and reports to the bench orchestrator over IPC. It stops by itself at its
 * deadline or when the orchestrator goes away.
 *
 * Commands (IPC): {cmd:'open', ...spec}   mint the tokens and build the upgrade requests
 *                                          of `count` clients, then answer {type:'minted'}
 *                 {cmd:'go'}               connect them and subscribe them
 *                 {cmd:'churn', perSecond, sentinels}
 *                                          from now on, close `perSecond` random connections
 *                                          per second (close frame) and open each again (same
 *                                          node, same channels); clients with a global index
 *                                          below `sentinels` are never churned: their frame
 *                                          count (`sentinelFrames`) is what a loss check reads
 *                 {cmd:'close'}            close every connection (close frame); another
 *                                          `open` may follow (a warm generator for the next round)
 *                 {cmd:'exit'}
 */
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ClientGroup, Conn, upgradeRequest } from '../lib/wsclient.mjs';
import { Histogram } from '../lib/hist.mjs';

const deadlineMs = Number(process.env.BENCH_DEADLINE_MS ?? 300_000);
const stopTimer = setTimeout(() => process.exit(3), deadlineMs);
stopTimer.unref();
process.on('disconnect', () => process.exit(0));

const SLOW_MS = Number(process.env.BENCH_SLOW_MS ?? 0);
let group;
let conns = [];
const latency = new Histogram();
const connectTimes = new Histogram();
let live = 0;
let connected = 0;
let reportTimer;
let spec;

function nowMs() {
  return performance.timeOrigin + performance.now();
}

function report(extra = {}) {
  if (!process.connected) return;
  process.send({
    type: 'report',
    frames: group ? group.frames : 0,
    bytes: group ? group.bytes : 0,
    errors: group ? group.errors : 0,
    closed: group ? group.closed : 0,
    extensions: group ? group.extensions : 0,
    lastError: group ? group.lastError : '',
    live,
    connected,
    failed,
    churned,
    sentinelFrames: sentinelFrames(),
    latency: latency.drain(),
    connect: connectTimes.drain(),
    cpu: process.cpuUsage(),
    ...extra,
  });
}

function open(message) {
  spec = message;
  // A generator may run several rounds: each starts from nothing but the warm process.
  clearInterval(reportTimer);
  conns = [];
  live = 0;
  connected = 0;
  failed = 0;
  latency.drain();
  connectTimes.drain();
  const { port, ports, path, protocol, count, firstIndex, secret, channelsOf, sampleConnections, concurrency, headers: extraHeaders } = spec;
  let next = 0;
  let opening = 0; // started, neither live nor closed yet
  let doneSent = false;
  group = new ClientGroup({
    protocol,
    onEvent: (conn, t) => {
      if (t !== t) return;
      const ms = nowMs() - t;
      latency.record(ms * 1000);
      // BENCH_SLOW_MS=<ms>: log slow deliveries (when, which connection) to find stalls.
      if (SLOW_MS > 0 && ms > SLOW_MS) process.stderr.write(`slow ${Math.round(t)} ${ms.toFixed(1)} conn=${conn.index} port=${conn.port}\n`);
    },
    onConnected: (conn) => {
      connected += 1;
      connectTimes.record((conn.connectedAt - conn.startedAt) * 1000);
    },
    onLive: (conn) => {
      live += 1;
      conn.wasLive = true;
      opening -= 1;
      pump();
    },
    onClosed: (conn) => {
      if (conn.wasLive) live -= 1;
      else opening -= 1;
      if (!conn.wasLive) failed += 1;
      pump();
    },
  });
  // Tokens are minted here, not in the server under test.
  const tokens = new Map();
  // Valid until past this generator's own deadline: an edge closes a connection whose token
  // expires (1008), and a soak of an hour or more would count that as lost events.
  const tokenLifetimeSeconds = Math.ceil(deadlineMs / 1000) + 600;
  // A KeyObject: with a string secret jsonwebtoken tries a PEM parse first (~0.8 ms).
  const signingKey = createSecretKey(Buffer.from(secret, 'utf8'));
  const tokenFor = (user, channels) => {
    const key = `${user}|${channels.join(',')}`;
    let token = tokens.get(key);
    if (!token) {
      token = jwt.sign({ sub: user, channels }, signingKey, { algorithm: 'HS256', expiresIn: tokenLifetimeSeconds });
      if (tokens.size < 5000) tokens.set(key, token);
    }
    return token;
  };
  // Mint every token and build every upgrade request before the first connection (and,
  // with `go`, before any generator of the fleet starts), so the storm measures
  // connecting only, not JWT signing in the generators.
  const minted = [];
  // What each client was opened with, to open it again after a churn close.
  blueprints = [];
  for (let k = 0; k < count; k++) {
    const i = firstIndex + k;
    const channels = channelsOf === 'none' ? [] : expandChannels(channelsOf, i);
    const token = tokenFor(spec.distinctUsers ? `u${i}` : 'bench', channels.length ? channels : ['bench:*']);
    const p = ports ? ports[i % ports.length] : port;
    blueprints.push({ channels, port: p, request: null });
    minted.push({ channels, port: p, request: upgradeRequest(group.host, p, path, { Authorization: `Bearer ${token}`, ...(protocol === 'herald-protobuf' ? { 'Sec-WebSocket-Protocol': 'v1.protobuf' } : {}), ...(extraHeaders ?? {}) }) });
  }
  let started = 0;
  let cpuAtGo;
  function pump() {
    while (next < count && opening < concurrency) {
      const { channels, port: p, request } = minted[next];
      blueprints[next].request = request;
      minted[next] = undefined;
      opening += 1;
      conns.push(new Conn(group, firstIndex + next, p, request, channels, next < sampleConnections));
      next += 1;
    }
    if (!doneSent && next >= count && opening === 0) {
      doneSent = true;
      const cpu = process.cpuUsage(cpuAtGo);
      report({ ready: true, openMs: performance.now() - started, openStartedAt: performance.timeOrigin + started, openEndedAt: nowMs(), openCpuMicros: cpu.user + cpu.system });
    }
  }
  churnOne = (k) => {
    const { channels, port: p, request } = blueprints[k];
    conns[k].close();
    opening += 1;
    conns[k] = new Conn(group, firstIndex + k, p, request, channels, false);
    churned += 1;
  };
  go = () => {
    started = performance.now();
    cpuAtGo = process.cpuUsage();
    pump();
    reportTimer = setInterval(() => report(), spec.reportMs ?? 250);
  };
  process.send({ type: 'minted' });
}

let go = () => {};
/** Closes client k (of this generator) and opens it again. */
let churnOne = (_k) => {};
let blueprints = [];
let churned = 0;
let churnTimer;

function sentinelFrames() {
  let frames = 0;
  for (const conn of conns) if (conn.index < (spec?.sentinels ?? 0)) frames += conn.frames;
  return frames;
}

/** Churn: every 100 ms, a tenth of `perSecond` random clients above the sentinels. */
function startChurn({ perSecond, sentinels }) {
  spec.sentinels = sentinels;
  clearInterval(churnTimer);
  const candidates = [];
  for (let k = 0; k < conns.length; k++) if (conns[k].index >= sentinels) candidates.push(k);
  if (candidates.length === 0 || !(perSecond > 0)) return;
  let owed = 0;
  churnTimer = setInterval(() => {
    owed += perSecond / 10;
    for (; owed >= 1; owed -= 1) churnOne(candidates[Math.floor(Math.random() * candidates.length)]);
  }, 100);
}

let failed = 0;

function expandChannels(channelsOf, i) {
  // {prefix, modulo, perConn}: client i subscribes to prefix + ((i + k) % modulo) for k < perConn
  const out = [];
  for (let k = 0; k < (channelsOf.perConn ?? 1); k++) out.push(`${channelsOf.prefix}${(i + k) % channelsOf.modulo}`);
  return out;
}

process.on('message', (message) => {
  if (message.cmd === 'open') open(message);
  else if (message.cmd === 'go') go();
  else if (message.cmd === 'churn') startChurn(message);
  else if (message.cmd === 'close') {
    clearInterval(churnTimer);
    for (const conn of conns) conn.close();
    const check = setInterval(() => {
      if (group.closed >= conns.length) {
        clearInterval(check);
        report({ allClosed: true });
      }
    }, 50);
  } else if (message.cmd === 'report') report();
  else if (message.cmd === 'spread') {
    // Frames received per live connection: how evenly the server served them.
    const counts = conns.filter((c) => c.state === 'live').map((c) => c.frames);
    const sampled = conns.filter((c) => c.state === 'live' && c.sample).map((c) => c.frames);
    counts.sort((a, b) => a - b);
    const at = (q) => counts[Math.min(counts.length - 1, Math.floor(q * counts.length))] ?? 0;
    const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    process.send({ type: 'spread', min: counts[0] ?? 0, p01: at(0.01), p50: at(0.5), max: counts.at(-1) ?? 0, mean: mean(counts), sampledMean: mean(sampled) });
  }
  else if (message.cmd === 'exit') {
    clearInterval(reportTimer);
    clearInterval(churnTimer);
    for (const conn of conns) conn.destroy();
    conns = [];
    setTimeout(() => process.exit(0), 10);
  }
});
process.send({ type: 'hello', pid: process.pid });
