/**
 * fanout: one channel, N subscribers (1k and 10k), events with ~100 bytes of data.
 * Deliveries per second of one edge process and its CPU per delivery, for Herald, the
 * raw ws reference and Socket.IO, in the same run on the same machine.
 *
 * Topology (default `redis`): publisher process -> ingest process (HTTP) -> Redis ->
 * one edge process (events: payment.updated, ~150 bytes of data; Herald: `herald ingest` + `herald edge`; Socket.IO: a Socket.IO
 * emitter process + a node with @socket.io/redis-adapter; raw ws: HTTP -> PUBLISH +
 * a node on Redis pub/sub). `--topology memory`: the publisher posts into the one
 * server process (`herald start`). Each publish request carries `--batch` events (1,
 * 10, 50): the more events arrive per event-loop turn, the more frames share a write.
 * The publisher runs at most ~200 ms of deliveries ahead of the clients (closed loop).
 * Clients: load-generator processes of at most 2,500 sockets each. `herald-pb` is the
 * same Herald with its clients on v1.protobuf (binary frames); rows carry the bytes per
 * delivery each format put on the wire.
 */
import { paymentBenchRoutes } from '../lib/systems.mjs';
import { measureThroughput, ratiosOf } from '../lib/throughput.mjs';

export const description = 'one channel, N subscribers: deliveries per second and CPU per delivery of one edge process';

export function defaults(quick) {
  return {
    systems: ['herald', 'herald-pb', 'raw', 'sio'],
    sizes: quick ? [1000] : [1000, 10000],
    batch: quick ? [10] : [1, 10, 50],
    warmupMs: quick ? 1500 : 2000,
    measureMs: quick ? 3000 : 5000,
    topology: 'redis',
    eventType: 'payment.updated',
  };
}

export async function run(options, progress) {
  const rows = [];
  for (const size of options.sizes) {
    for (const system of options.systems) {
      const env = options.eventType === 'payment.updated' ? { ROUTES_FILE: paymentBenchRoutes() } : {};
      rows.push(...(await measureThroughput(system, { ...options, size, channels: 1, batches: options.batch, env: { ...env, ...(options.env ?? {}) } }, progress)));
    }
  }
  return { rows, ratios: ratiosOf(rows, (r) => `N=${r.subscribers} batch=${r.batch}`) };
}
