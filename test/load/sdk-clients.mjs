/**
 * A process holding a share of the SDK clients of the test/sdk scenarios: real
 * `HeraldClient`s from @herald/client on the Node transport (`ws`), each subscribed to
 * one merchant channel, recording what their application sees. Driven over IPC by
 * test/sdk/harness.ts; it checks its own clients and reports figures, never raw events.
 *
 * Commands (IPC, parent -> child):
 *   {cmd:'start', urls, clients:[{id, merchant, token, format?}], markerOf:{merchant:id}}
 *        -> {type:'ready', nodes:{node:count}, formats:{format:count}, failed}
 *        (`format: 'protobuf'` clients come from @herald/client/protobuf, loaded only then)
 *   {cmd:'cut', fraction}  destroy the TCP socket of a random `fraction` of the open
 *        clients (no close frame; half with a RST)  -> {type:'cut', count, at}
 *   {cmd:'await-markers', timeoutMs} -> {type:'markers', done, missing:[ids]}
 *   {cmd:'verify', accepted:{merchant:[ids in publish order]}} -> {type:'verify', ...figures}
 *        (an event missing inside a gap a continuity-lost notice announced is counted
 *        `excused`, not `lost`)
 *   {cmd:'exit'}  close every client (close frame) and exit 0
 *
 * A cut uses the `agent` option of wsTransport: each client has its own http.Agent
 * whose createConnection keeps the socket, so the test can destroy exactly that TCP
 * connection, like a dropped link, while the SDK's own transport code runs unchanged.
 */
import { Agent } from 'node:http';
import { createConnection } from 'node:net';
import { HeraldClient, compareSeq, wsTransport } from '@herald/client';

process.on('disconnect', () => process.exit(0));
const deadline = setTimeout(() => process.exit(3), Number(process.env.SDK_CLIENTS_DEADLINE_MS ?? 300_000));
deadline.unref();

/** An agent that remembers the last socket it opened. */
class CuttableAgent extends Agent {
  socket = undefined;
  createConnection(options, callback) {
    const socket = createConnection(options, callback);
    this.socket = socket;
    return socket;
  }
}

/** @type {Array<ReturnType<typeof makeClient>>} */
let clients = [];

function send(message) {
  if (process.connected) process.send(message);
}

/** The client class for a format: the JSON entry's, or the protobuf entry's (imported on first use). */
let ProtobufHeraldClient;

function makeClient(spec, urls, markerId) {
  const agent = new CuttableAgent();
  const format = spec.format ?? 'json';
  const Client = format === 'protobuf' ? ProtobufHeraldClient : HeraldClient;
  const client = new Client({ url: urls, token: spec.token, format, transport: wsTransport({ agent }) });
  const sub = client.subscribe(`merchant:${spec.merchant}`);
  const state = {
    id: spec.id,
    merchant: spec.merchant,
    markerId,
    client,
    sub,
    agent,
    ids: [],
    seen: new Set(),
    lastSeq: undefined,
    duplicateIds: 0,
    outOfOrder: 0,
    markerAt: undefined,
    markerWaiter: undefined,
    subscribedOnce: undefined,
    /** When the current outage began (the SDK's `disconnected`), until resubscribed. */
    downSince: undefined,
    downCode: undefined,
    disconnects: [], // {at, code}
    reconnects: [], // timestamps of `connected` frames after the first
    backMs: [], // disconnected -> resubscribed, per outage
    continuityLost: 0,
    /** How many events the application had seen at each continuity-lost notice. */
    lostAt: [],
    errors: [],
  };
  state.subscribedOnce = new Promise((resolve) => sub.once('subscribed', resolve));
  sub.on('event', (event) => {
    if (state.seen.has(event.id)) state.duplicateIds++;
    state.seen.add(event.id);
    if (state.lastSeq !== undefined && compareSeq(event.seq, state.lastSeq) <= 0) state.outOfOrder++;
    state.lastSeq = event.seq;
    state.ids.push(event.id);
    if (event.id === markerId) {
      state.markerAt = Date.now();
      state.markerWaiter?.();
    }
  });
  sub.on('subscribed', () => {
    if (state.downSince === undefined) return;
    state.backMs.push(Date.now() - state.downSince);
    state.downSince = undefined;
  });
  sub.on('continuity-lost', () => {
    state.continuityLost++;
    state.lostAt.push(state.ids.length);
  });
  sub.on('error', (error) => state.errors.push(`${error.kind} ${error.problemType ?? ''} ${error.message}`));
  client.on('disconnected', ({ code }) => {
    const at = Date.now();
    state.disconnects.push({ at, code });
    if (state.downSince === undefined) state.downSince = at;
  });
  client.on('connected', (info) => {
    if (info.reconnected) state.reconnects.push(Date.now());
  });
  client.on('error', (error) => {
    if (state.errors.length < 5) state.errors.push(`${error.kind} ${error.problemType ?? ''} ${error.message}`);
  });
  return state;
}

async function start({ urls, clients: specs, markerOf }) {
  if (specs.some((spec) => spec.format === 'protobuf')) ({ HeraldClient: ProtobufHeraldClient } = await import('@herald/client/protobuf'));
  clients = specs.map((spec) => makeClient(spec, urls, markerOf[spec.merchant]));
  const results = await Promise.allSettled(clients.map((c) => c.client.connect()));
  const failed = results.filter((r) => r.status === 'rejected').length;
  await Promise.all(clients.map((c) => c.subscribedOnce));
  const nodes = {};
  for (const c of clients) {
    const url = c.client.connection?.url ?? 'none';
    nodes[url] = (nodes[url] ?? 0) + 1;
  }
  send({ type: 'ready', nodes, formats: countBy(clients.map((c) => c.client.format)), failed });
}

function cut({ fraction }) {
  const open = clients.filter((c) => c.client.state === 'open' && c.agent.socket && !c.agent.socket.destroyed);
  for (let i = open.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [open[i], open[j]] = [open[j], open[i]];
  }
  const chosen = open.slice(0, Math.round(open.length * fraction));
  const at = Date.now();
  chosen.forEach((c, i) => {
    // No close frame: the TCP connection just dies (FIN, or RST for every other one).
    if (i % 2 === 0 && typeof c.agent.socket.resetAndDestroy === 'function') c.agent.socket.resetAndDestroy();
    else c.agent.socket.destroy();
  });
  send({ type: 'cut', count: chosen.length, at });
}

async function awaitMarkers({ timeoutMs }) {
  const waiting = clients.filter((c) => c.markerAt === undefined);
  await Promise.race([
    Promise.all(waiting.map((c) => new Promise((resolve) => (c.markerWaiter = resolve)))),
    new Promise((resolve) => setTimeout(resolve, timeoutMs)),
  ]);
  const missing = clients.filter((c) => c.markerAt === undefined).map((c) => c.id);
  send({ type: 'markers', done: clients.length - missing.length, missing: missing.slice(0, 20), missingCount: missing.length });
}

/**
 * The accepted events a continuity-lost notice excuses: those between the last event
 * seen before the notice and the first one seen after it (publish order = seq order).
 * An event missing anywhere else is lost.
 */
function excusedBy(c, want) {
  const position = new Map(want.map((id, i) => [id, i]));
  const excused = new Set();
  for (const at of c.lostAt) {
    const before = at > 0 ? (position.get(c.ids[at - 1]) ?? -1) : -1;
    const after = at < c.ids.length ? (position.get(c.ids[at]) ?? want.length) : want.length;
    for (let i = before + 1; i < after; i++) excused.add(want[i]);
  }
  return excused;
}

function verify({ accepted }) {
  let expected = 0;
  let excused = 0;
  let delivered = 0;
  let lost = 0;
  let unexpected = 0;
  let wrongOrder = 0;
  const problems = [];
  let sdkDuplicatesDropped = 0;
  let recoveredEvents = 0;
  const byFormat = {};
  for (const c of clients) {
    const want = accepted[c.merchant] ?? [];
    const got = new Set(c.ids);
    const wanted = new Set(want);
    const gaps = c.lostAt.length > 0 ? excusedBy(c, want) : new Set();
    const excusedHere = want.filter((id) => !got.has(id) && gaps.has(id)).length;
    const missingHere = want.filter((id) => !got.has(id) && !gaps.has(id));
    const mine = (byFormat[c.client.format] ??= { clients: 0, expected: 0, delivered: 0, lost: 0, duplicates: 0, recoveredEvents: 0 });
    mine.clients++;
    mine.expected += want.length;
    mine.delivered += c.ids.length;
    mine.lost += missingHere.length;
    mine.duplicates += c.duplicateIds;
    mine.recoveredEvents += c.client.stats().subscriptions[`merchant:${c.merchant}`]?.recovered ?? 0;
    expected += want.length;
    delivered += c.ids.length;
    excused += excusedHere;
    const extraHere = c.ids.filter((id) => !wanted.has(id));
    lost += missingHere.length;
    unexpected += extraHere.length;
    // Exactly the accepted sequence, in publish order (= seq order: batches go one at a time).
    const inOrder = missingHere.length === 0 && extraHere.length === 0 && c.duplicateIds === 0 && c.ids.every((id, i) => id === want[i]);
    // In order means the accepted sequence less the excused gaps.
    const orderedAsAccepted = excusedHere === 0 ? inOrder : isSubsequence(c.ids, want);
    if (!orderedAsAccepted && missingHere.length === 0 && extraHere.length === 0 && c.duplicateIds === 0) wrongOrder++;
    if (!(orderedAsAccepted && missingHere.length === 0 && extraHere.length === 0 && c.duplicateIds === 0) && problems.length < 10) {
      problems.push({
        client: c.id,
        merchant: c.merchant,
        expected: want.length,
        got: c.ids.length,
        missing: missingHere.slice(0, 5),
        extra: extraHere.slice(0, 5),
        duplicates: c.duplicateIds,
        outOfOrder: c.outOfOrder,
        continuityLostAt: c.lostAt,
        disconnects: c.disconnects,
        errors: c.errors.slice(0, 5),
        stats: c.client.stats().subscriptions[`merchant:${c.merchant}`],
      });
    }
    const stats = c.client.stats().subscriptions[`merchant:${c.merchant}`];
    sdkDuplicatesDropped += stats?.duplicates ?? 0;
    recoveredEvents += stats?.recovered ?? 0;
  }
  send({
    type: 'verify',
    clients: clients.length,
    expected,
    delivered,
    lost,
    unexpected,
    duplicates: clients.reduce((n, c) => n + c.duplicateIds, 0),
    outOfOrder: clients.reduce((n, c) => n + c.outOfOrder, 0),
    wrongOrder,
    continuityLost: clients.reduce((n, c) => n + c.continuityLost, 0),
    excused,
    sdkDuplicatesDropped,
    recoveredEvents,
    disconnects: clients.flatMap((c) => c.disconnects.map((d) => [d.at, d.code])),
    reconnects: clients.flatMap((c) => c.reconnects),
    backMs: clients.flatMap((c) => c.backMs),
    stillDown: clients.filter((c) => c.downSince !== undefined).length,
    clientsDisconnected: clients.filter((c) => c.disconnects.length > 0).length,
    problems,
    nodes: countBy(clients.map((c) => c.client.connection?.url ?? 'none')),
    byFormat,
  });
}

/** Whether `ids` is `want` with some entries left out, in the same order. */
function isSubsequence(ids, want) {
  let j = 0;
  for (const id of ids) {
    while (j < want.length && want[j] !== id) j++;
    if (j === want.length) return false;
    j++;
  }
  return true;
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

async function exit() {
  await Promise.race([Promise.all(clients.map((c) => c.client.close())), new Promise((resolve) => setTimeout(resolve, 3_000))]);
  process.exit(0);
}

process.on('message', (message) => {
  const run = { start, cut, 'await-markers': awaitMarkers, verify, exit }[message.cmd];
  Promise.resolve()
    .then(() => run(message))
    .catch((error) => send({ type: 'failure', message: String(error?.stack ?? error) }));
});
send({ type: 'spawned' });
