/**
 * The peers' "ingest" on Redis: an HTTP endpoint that publishes events to the servers
 * through Redis, the least a producer-facing API can do.
 *   KIND=raw  builds the envelope and PUBLISHes it to `bench:<channel>` (auto-pipelined)
 *   KIND=sio  a Socket.IO server with the Redis adapter and no clients:
 *             io.to(channel).emit('event', envelope) publishes to the other nodes
 *
 * POST /publish {"events":[{channel,type,id,data}]} -> 202 once Redis accepted them.
 */
import http from 'node:http';
import { Redis } from 'ioredis';
import { announce, envelopeOf, exitWith, readJson, stats } from '../lib/server-common.mjs';

const KIND = process.env.KIND ?? 'raw';
const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true });
redis.on('error', () => {});
const seqs = new Map();
let io;
if (KIND === 'sio') {
  const { Server } = await import('socket.io');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const sub = redis.duplicate();
  sub.on('error', () => {});
  io = new Server({ transports: ['websocket'] });
  io.adapter(createAdapter(redis, sub));
}

function nextSeq(channel) {
  const seq = (seqs.get(channel) ?? 0) + 1;
  seqs.set(channel, seq);
  return seq;
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/stats') {
    res.end(JSON.stringify(stats(0)));
    return;
  }
  if (req.url !== '/publish' || req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  const body = await readJson(req);
  if (KIND === 'sio') {
    for (const event of body.events) {
      const seq = nextSeq(event.channel);
      io.to(event.channel).emit('event', { type: event.type, id: event.id, timestamp: event.timestamp ?? new Date().toISOString(), channel: event.channel, seq: String(seq), data: event.data });
    }
  } else {
    await Promise.all(body.events.map((event) => redis.publish(`bench:${event.channel}`, envelopeOf(event, event.channel, nextSeq(event.channel)))));
  }
  res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => announce(server.address().port, { kind: `peer-ingest-${KIND}` }));
exitWith(server);
