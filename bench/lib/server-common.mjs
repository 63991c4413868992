/**
 * What the peer servers (raw ws reference, Socket.IO) share: the listening line, a
 * /stats endpoint, JSON body reading, JWT verification and the optional Redis
 * admission counter (so `connect` does the same work on every server).
 */
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';

export function announce(port, extra = {}) {
  const line = JSON.stringify({ msg: 'listening', port, pid: process.pid, ...extra });
  process.stdout.write(`${line}\n`);
}

export function stats(connections, extra = {}) {
  const memory = process.memoryUsage();
  return { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, arrayBuffers: memory.arrayBuffers, cpu: process.cpuUsage(), connections, ...extra };
}

export function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

/** Verifies `Authorization: Bearer <jwt>` like the edge does (HS256, exp). */
const keys = new Map();
export function verifyBearer(header, secret) {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return undefined;
  // A KeyObject, as Herald's edge does: given a string, jsonwebtoken first tries to
  // parse it as a PEM public key, and that failed parse costs ~0.8 ms per call.
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  try {
    const claims = jwt.verify(header.slice(7), key, { algorithms: ['HS256'] });
    return typeof claims === 'object' ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** The same envelope bytes Herald sends, built without a schema or a broker. */
export function envelopeOf(event, channel, seq) {
  return `{"type":${JSON.stringify(event.type)},"id":${JSON.stringify(event.id)},"timestamp":${JSON.stringify(event.timestamp ?? new Date().toISOString())},"channel":${JSON.stringify(channel)},"seq":"${seq}","data":${JSON.stringify(event.data)}}`;
}

/** Redis admission, the minimal cluster-wide counter: one INCR per connection (DECR on close). */
export async function redisAdmission(url) {
  if (!url) return undefined;
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { enableAutoPipelining: true, lazyConnect: false });
  redis.on('error', () => {});
  const key = `bench:admission:${process.pid}`;
  return {
    acquire: () => redis.incr(key),
    release: () => redis.decr(key).catch(() => {}),
  };
}

export function exitWith(server) {
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const deadline = Number(process.env.BENCH_DEADLINE_MS ?? 0);
  if (deadline > 0) setTimeout(() => process.exit(0), deadline).unref();
  if (process.send) process.on('disconnect', () => process.exit(0));
}
