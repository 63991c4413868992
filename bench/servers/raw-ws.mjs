/**
 * The raw `ws` reference: the practical ceiling of Node on this machine. Speaks the
 * subset of Herald v1 the bench uses (connected, subscribe, subscribed, events with the
 * same envelope bytes) and does the least work possible per delivery: an event is
 * framed once (ws Sender.frame) and every socket gets one coalesced write per tick.
 *
 * It batches the way Herald's outbox does, so that Herald / raw measures Herald's
 * overhead rather than a batching policy: the flush runs on setImmediate (frames of
 * every I/O callback of a loop iteration share a write) and identical frame lists are
 * concatenated once. RAW_FLUSH=microtask and RAW_SHARED_CONCAT=0 give the simpler
 * reference (flush per microtask checkpoint, one concat per socket).
 *
 * Input: POST /publish {"events":[{channel,type,id,data}]} (in-process), or with
 * REDIS_URL, Redis pub/sub channels `bench:<channel>` carrying complete envelopes
 * (subscribed per channel with local subscribers, like Herald's edge).
 *
 * Env: PORT (0), JWT_SECRET, REDIS_URL, ADMISSION (with REDIS_URL: INCR per connection).
 */
import http from 'node:http';
import { constants, deflateRawSync } from 'node:zlib';
import { WebSocketServer, Sender } from 'ws';
import { announce, envelopeOf, exitWith, readJson, redisAdmission, stats, verifyBearer } from '../lib/server-common.mjs';

const SECRET = process.env.JWT_SECRET ?? 'bench-secret';
const REDIS_URL = process.env.REDIS_URL;
const TEXT = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };
const channels = new Map(); // channel -> Set<client>
const seqs = new Map();
let connections = 0;
let deliveries = 0;
let dirty = [];
let scheduled = false;

const admission = process.env.ADMISSION === 'redis' ? await redisAdmission(REDIS_URL) : undefined;

function frame(text) {
  const parts = Sender.frame(Buffer.from(text), TEXT);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

// COMPRESSION=1: permessage-deflate negotiated without context takeover, and an event
// (of at least 256 bytes, Herald's default threshold) compressed once for every client
// that negotiated it, the way Herald does; ws itself never compresses.
const COMPRESSION = process.env.COMPRESSION === '1';
const COMPRESSED_TEXT = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: true };
function compressedFrame(text) {
  const deflated = deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
  const parts = Sender.frame(deflated.subarray(0, deflated.length - 4), COMPRESSED_TEXT);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

const MICROTASK = process.env.RAW_FLUSH === 'microtask';
const SHARED_CONCAT = process.env.RAW_SHARED_CONCAT !== '0';

function flush() {
  scheduled = false;
  const list = dirty;
  dirty = [];
  let lastParts = null;
  let lastChunk = null;
  for (let i = 0; i < list.length; i++) {
    const client = list[i];
    const pending = client.pending;
    client.pending = null;
    if (!client.socket.writable) continue;
    if (!Array.isArray(pending)) {
      client.socket.write(pending);
      continue;
    }
    if (SHARED_CONCAT && lastParts !== null && sameParts(lastParts, pending)) {
      client.socket.write(lastChunk);
      continue;
    }
    lastParts = pending;
    lastChunk = Buffer.concat(pending);
    client.socket.write(lastChunk);
  }
}

function sameParts(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function enqueue(client, bytes) {
  const pending = client.pending;
  if (pending === null) {
    client.pending = bytes;
    dirty.push(client);
    if (!scheduled) {
      scheduled = true;
      if (MICROTASK) queueMicrotask(flush);
      else setImmediate(flush);
    }
  } else if (Array.isArray(pending)) pending.push(bytes);
  else client.pending = [pending, bytes];
}

function broadcast(channel, envelope) {
  const set = channels.get(channel);
  if (set === undefined) return;
  const bytes = frame(envelope);
  let deflated = COMPRESSION && envelope.length >= 256 ? undefined : null;
  for (const client of set) {
    if (client.deflate && deflated !== null) enqueue(client, (deflated ??= compressedFrame(envelope)));
    else enqueue(client, bytes);
  }
  deliveries += set.size;
}

let sub;
if (REDIS_URL) {
  const { Redis } = await import('ioredis');
  sub = new Redis(REDIS_URL);
  sub.on('error', () => {});
  sub.on('messageBuffer', (channel, message) => broadcast(channel.toString('latin1').slice(6), message.toString('utf8')));
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/stats') {
    res.end(JSON.stringify(stats(connections, { deliveries })));
    return;
  }
  if (req.url === '/publish' && req.method === 'POST') {
    const body = await readJson(req);
    for (const event of body.events) {
      const seq = (seqs.get(event.channel) ?? 0) + 1;
      seqs.set(event.channel, seq);
      broadcast(event.channel, envelopeOf(event, event.channel, seq));
    }
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: COMPRESSION ? { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: Number.POSITIVE_INFINITY } : false,
});
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => {});
  const claims = verifyBearer(req.headers.authorization, SECRET);
  if (!claims) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (admission) {
      ws.pause();
      admission.acquire().then(() => {
        ws.resume();
        accept(ws, claims);
      });
    } else accept(ws, claims);
  });
});

function accept(ws, claims) {
  const client = { ws, socket: ws._socket, pending: null, channels: new Set(), user: claims.sub, deflate: ws._extensions['permessage-deflate'] !== undefined };
  connections += 1;
  ws.on('message', (data) => onMessage(client, data));
  ws.on('close', () => {
    connections -= 1;
    client.pending = null;
    for (const channel of client.channels) leave(client, channel);
    admission?.release();
  });
  ws.on('error', () => {});
  enqueue(client, frame(`{"type":"connected","id":"x","timestamp":"${new Date().toISOString()}","data":{"connectionId":"${connections}","node":"raw"}}`));
}

function onMessage(client, data) {
  const command = JSON.parse(data.toString());
  if (command.type === 'subscribe') {
    const channel = command.data.channel;
    let set = channels.get(channel);
    if (!set) {
      channels.set(channel, (set = new Set()));
      if (sub) {
        sub.subscribe(`bench:${channel}`).then(() => set.add(client) && reply());
        client.channels.add(channel);
        return;
      }
    }
    set.add(client);
    client.channels.add(channel);
    reply();
    function reply() {
      enqueue(client, frame(`{"type":"subscribed","replyTo":"${command.id}","timestamp":"${new Date().toISOString()}","data":{"channel":${JSON.stringify(channel)},"recovered":false,"missed":0}}`));
    }
  }
}

function leave(client, channel) {
  const set = channels.get(channel);
  if (!set) return;
  set.delete(client);
  if (set.size === 0) {
    channels.delete(channel);
    sub?.unsubscribe(`bench:${channel}`);
  }
}

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => announce(server.address().port, { kind: 'raw' }));
exitWith(server);
