/**
 * A publisher process: posts events over HTTP (keep-alive) to Herald's ingest API or
 * to a peer's /publish endpoint, and reports what was accepted. Each event carries
 * `t`, its send time in ms (epoch, sub-ms), from which clients measure latency.
 *
 * Flow control:
 *   credit  publish while (accepted + in flight) < the credit the orchestrator grants
 *           (the orchestrator grants as deliveries are counted: a closed loop that finds
 *           the highest sustainable throughput without unbounded queues)
 *   rate    a fixed number of events per second (latency)
 *   max     `concurrency` requests always in flight (ingest throughput)
 *
 * Commands (IPC): {cmd:'start', ...}, {cmd:'credit', upTo}, {cmd:'stop'}, {cmd:'exit'}
 */
import http from 'node:http';
import { Histogram } from '../lib/hist.mjs';

const deadlineMs = Number(process.env.BENCH_DEADLINE_MS ?? 300_000);
setTimeout(() => process.exit(3), deadlineMs).unref();
process.on('disconnect', () => process.exit(0));

let spec;
let agent;
let running = false;
let credit = 0;
let sent = 0; // events handed to requests
let accepted = 0;
let rejected = 0;
let requests = 0;
let inFlight = 0;
let errors = 0;
let lastError = '';
let seq = 0;
let rateTimer;
let reportTimer;
const requestLatency = new Histogram();
const PAD = 'x'.repeat(200);

function nowMs() {
  return performance.timeOrigin + performance.now();
}

/** ~100 bytes of data: {"ch":"c7","t":1763719200123.456,"n":42,"pad":"xxx"} */
function dataOf(channelIndex, n) {
  const t = Math.round(nowMs() * 1000) / 1000;
  const head = `{"ch":"c${channelIndex}","t":${t},"n":${n},"pad":"`;
  const padLength = Math.max(0, (spec.dataBytes ?? 100) - head.length - 2);
  return `${head}${PAD.slice(0, padLength)}"}`;
}

/**
 * ~100 bytes of a payment.updated's data, with the publish time: the typed fields of the
 * binary protocol plus `t` and `n` (which travel in its `extra`).
 */
function paymentDataOf(channelIndex, n) {
  const t = Math.round(nowMs() * 1000) / 1000;
  return `{"payment_id":"pay_${n}","merchant_id":"c${channelIndex}","ch":"c${channelIndex}","status":"captured","amount":${1000 + (n % 9000)},"currency":"EUR","t":${t},"n":${n}}`;
}

function eventJson(n) {
  const channelIndex = (spec.channelOffset ?? 0) + (n % spec.channels);
  if (spec.eventType === 'payment.updated') {
    // Routed to bench:c<i> (the scenario's routes file), so the fan-out is the same as bench.tick's.
    const data = paymentDataOf(channelIndex, n);
    const head = spec.target === 'herald' ? '' : `"channel":"bench:c${channelIndex}",`;
    return `{${head}"type":"payment.updated","id":"${spec.runId}-${n}","data":${data}}`;
  }
  const data = dataOf(channelIndex, n);
  if (spec.target === 'herald') {
    if (spec.eventType === 'payment.created') {
      const m = `m_${channelIndex}`;
      return `{"type":"payment.created","id":"${spec.runId}-${n}","data":{"payment_id":"pay_${spec.runId}_${n}","order_id":"order_${n}","merchant_id":"${m}","amount":10000,"currency":"EUR","status":"pending"}}`;
    }
    return `{"type":"bench.tick","id":"${spec.runId}-${n}","data":${data}}`;
  }
  return `{"channel":"bench:c${channelIndex}","type":"bench.tick","id":"${spec.runId}-${n}","data":${data}}`;
}

function post(count) {
  const events = [];
  for (let i = 0; i < count; i++) events.push(eventJson(seq++));
  let path;
  let body;
  if (spec.target === 'herald') {
    if (spec.single) {
      path = '/v1/events';
      body = events[0];
    } else {
      path = '/v1/events:batch';
      body = `{"events":[${events.join(',')}]}`;
    }
  } else {
    path = '/publish';
    body = `{"events":[${events.join(',')}]}`;
  }
  const url = spec.urls[requests % spec.urls.length];
  requests += 1;
  inFlight += 1;
  sent += count;
  const started = performance.now();
  const req = http.request(`${url}${path}`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(spec.apiKey ? { authorization: `Bearer ${spec.apiKey}` } : {}) },
  });
  req.on('response', (res) => {
    const chunks = [];
    res.on('data', (chunk) => chunks.push(chunk));
    res.on('end', () => {
      inFlight -= 1;
      requestLatency.record((performance.now() - started) * 1000);
      if (res.statusCode === 202) accepted += count;
      else if (res.statusCode === 207) {
        const text = Buffer.concat(chunks).toString();
        const ok = text.split('"status":202').length - 1;
        accepted += ok;
        rejected += count - ok;
        if (ok < count) lastError = text.slice(0, 300);
      } else {
        rejected += count;
        lastError = `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
      }
      sent -= 0;
      pump();
    });
  });
  req.on('error', (error) => {
    inFlight -= 1;
    errors += 1;
    lastError = error.message;
    setTimeout(pump, 10);
  });
  req.end(body);
}

function pump() {
  if (!running) return;
  const batch = spec.single ? 1 : spec.batch;
  if (spec.flow === 'credit') {
    while (inFlight < spec.concurrency && sent + batch <= credit) post(batch);
  } else if (spec.flow === 'max') {
    while (inFlight < spec.concurrency) post(batch);
  }
}

function startRate() {
  const started = performance.now();
  const batch = spec.single ? 1 : spec.batch;
  const tick = () => {
    if (!running) return;
    const due = Math.floor(((performance.now() - started) / 1000) * spec.rate);
    // Never more than maxInFlight requests: a saturated server shows as lower throughput.
    while (sent + batch <= due && inFlight < spec.concurrency) post(batch);
    rateTimer = setTimeout(tick, 1);
  };
  tick();
}

function report(extra = {}) {
  if (!process.connected) return;
  process.send({ type: 'report', sent, accepted, rejected, requests, inFlight, errors, lastError, request: requestLatency.drain(), cpu: process.cpuUsage(), ...extra });
}

process.on('message', (message) => {
  if (message.cmd === 'start') {
    spec = message;
    agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
    running = true;
    credit = spec.credit ?? 0;
    if (spec.flow === 'rate') startRate();
    else pump();
    reportTimer = setInterval(report, spec.reportMs ?? 250);
  } else if (message.cmd === 'credit') {
    credit = message.upTo;
    pump();
  } else if (message.cmd === 'stop') {
    running = false;
    clearTimeout(rateTimer);
    const wait = setInterval(() => {
      if (inFlight === 0) {
        clearInterval(wait);
        report({ stopped: true });
      }
    }, 20);
  } else if (message.cmd === 'exit') {
    clearInterval(reportTimer);
    agent?.destroy();
    setTimeout(() => process.exit(0), 10);
  }
});
process.send({ type: 'hello', pid: process.pid });
