/**
 * The Socket.IO 4 peer, configured for speed the way its docs advise: websocket
 * transport only, no per-message deflate, no HTTP compression. Rooms are channels;
 * a broadcast is encoded once (and pre-framed by socket.io-adapter) per node.
 *
 * Input: POST /publish {"events":[{channel,type,id,data}]} -> io.to(channel).emit('event', envelope),
 * or with REDIS_URL the @socket.io/redis-adapter (the publisher is another Socket.IO
 * process: servers/peer-ingest.mjs).
 *
 * Env: PORT (0), JWT_SECRET, REDIS_URL, ADMISSION (with REDIS_URL: INCR per connection).
 */
import http from 'node:http';
import { Server } from 'socket.io';
import { announce, exitWith, readJson, redisAdmission, stats, verifyBearer } from '../lib/server-common.mjs';

const SECRET = process.env.JWT_SECRET ?? 'bench-secret';
const REDIS_URL = process.env.REDIS_URL;
const seqs = new Map();
let connections = 0;
const admission = process.env.ADMISSION === 'redis' ? await redisAdmission(REDIS_URL) : undefined;

let io;
const server = http.createServer(async (req, res) => {
  if (req.url === '/stats') {
    res.end(JSON.stringify(stats(connections)));
    return;
  }
  if (req.url === '/publish' && req.method === 'POST') {
    const body = await readJson(req);
    for (const event of body.events) {
      const seq = (seqs.get(event.channel) ?? 0) + 1;
      seqs.set(event.channel, seq);
      io.to(event.channel).emit('event', { type: event.type, id: event.id, timestamp: event.timestamp ?? new Date().toISOString(), channel: event.channel, seq: String(seq), data: event.data });
    }
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  // socket.io attaches its own request listener for /socket.io/; leave those alone.
  if (!req.url.startsWith('/socket.io/')) res.writeHead(404).end();
});

io = new Server(server, { transports: ['websocket'], perMessageDeflate: process.env.COMPRESSION === '1', httpCompression: false, serveClient: false });

if (REDIS_URL) {
  const { Redis } = await import('ioredis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = new Redis(REDIS_URL);
  const sub = pub.duplicate();
  pub.on('error', () => {});
  sub.on('error', () => {});
  io.adapter(createAdapter(pub, sub));
}

io.use((socket, next) => {
  const claims = verifyBearer(socket.handshake.headers.authorization, SECRET);
  if (!claims) return next(new Error('unauthorized'));
  socket.data.user = claims.sub;
  if (!admission) return next();
  admission.acquire().then(() => next(), next);
});

io.on('connection', (socket) => {
  connections += 1;
  socket.on('subscribe', (channel) => {
    socket.join(channel);
    socket.emit('subscribed', channel);
  });
  socket.on('disconnect', () => {
    connections -= 1;
    admission?.release();
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => announce(server.address().port, { kind: 'sio' }));
exitWith(server);
