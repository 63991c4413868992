/**
 * connect: new connections per second into one node, each with JWT verification and
 * admission on Redis (Herald: `herald edge` with MAX_CONNECTIONS set, so every
 * connection runs the atomic admission script; peers: jsonwebtoken verification and
 * a Redis INCR per connection). A storm of `connections` clients from load-generator
 * processes (handshakes in flight kept under the listen backlog); a connection counts
 * once its first frame (`connected` / Socket.IO's connect ack) arrives. Each round
 * ends with every client closing; the best of `rounds` is reported with all rounds.
 */
import { Fleet } from '../lib/fleet.mjs';
import { cpuSeconds, sleep } from '../lib/proc.mjs';
import { fmt, waitForQuiet } from '../lib/measure.mjs';
import { startSystem } from '../lib/systems.mjs';

export const description = 'new connections per second per node, with JWT verification and Redis admission';

export function defaults(quick) {
  return {
    systems: ['herald', 'raw', 'sio'],
    connections: quick ? 2000 : 10000,
    rounds: quick ? 1 : 3,
    inFlight: 400,
  };
}

export async function run(options, progress) {
  const rows = [];
  for (const system of options.systems) {
    const label = `${system} ${options.connections} connections`;
    progress(`${label}: starting`);
    const sut = await startSystem(system, {
      topology: 'redis',
      nodes: 1,
      admission: true,
      profileDir: options.profileDir,
      env: system === 'herald' ? { MAX_CONNECTIONS: '1000000', MAX_CONNECTIONS_PER_USER: '100' } : {},
    });
    try {
      const edge = sut.edges[0];
      const ownPids = [edge.pid, sut.redis.pid, ...sut.ingest.map((p) => p.pid)];
      // Warm-up round, not reported.
      const warm = await Fleet.open({ processes: 1, total: 500, system: sut, ports: [edge.port], channelsOf: 'none', sampleConnections: 0, concurrency: 100, distinctUsers: true });
      await warm.waitReady();
      await warm.close();
      const rounds = [];
      for (let round = 0; round < options.rounds; round++) {
        await waitForQuiet({ ownPids, progress: (m) => progress(`${label}: ${m}`) });
        const processes = Math.max(1, Math.ceil(options.connections / 2500));
        const cpu0 = cpuSeconds(edge.pid);
        const redisCpu0 = cpuSeconds(sut.redis.pid);
        const started = performance.now();
        const fleet = await Fleet.open({
          processes,
          total: options.connections,
          system: sut,
          ports: [edge.port],
          channelsOf: 'none',
          sampleConnections: 0,
          concurrency: Math.floor(options.inFlight / processes),
          distinctUsers: true,
          reportMs: 200,
        });
        let ready;
        try {
          ready = await fleet.waitReady({ progress: (m) => progress(`${label} round ${round + 1}: ${m}`) });
        } finally {
          // The open time is measured by the generators: from their first connect to their last `connected`.
          void started;
        }
        const seconds = ready.openMs / 1000;
        const cpu = cpuSeconds(edge.pid) - cpu0;
        const redisCpu = cpuSeconds(sut.redis.pid) - redisCpu0;
        const perSecond = Math.round(ready.live / seconds);
        const handshake = fleet.connect.summaryMs();
        rounds.push({ connections: ready.live, errors: ready.errors, seconds: Math.round(seconds * 1000) / 1000, connectionsPerSec: perSecond, serverCpuUsPerConnection: Math.round((cpu * 1e6) / ready.live), serverCpuPercent: Math.round((cpu / seconds) * 100), redisCpuPercent: Math.round((redisCpu / seconds) * 100), loadGeneratorCpuPercent: Math.round((fleet.cpuSeconds() / seconds) * 100), handshakeMs: handshake });
        progress(`${label} round ${round + 1}: ${fmt(perSecond)} connections/s (${ready.live} in ${seconds.toFixed(2)} s), ${rounds.at(-1).serverCpuUsPerConnection} us server CPU per connection, handshake p50 ${handshake.p50} ms p99 ${handshake.p99} ms`);
        await fleet.close();
        await sleep(1000);
      }
      const best = rounds.reduce((a, b) => (b.connectionsPerSec > a.connectionsPerSec ? b : a));
      const sorted = rounds.map((r) => r.connectionsPerSec).sort((a, b) => a - b);
      rows.push({ system, connectionsPerSec: best.connectionsPerSec, medianConnectionsPerSec: sorted[Math.floor(sorted.length / 2)], serverCpuUsPerConnection: best.serverCpuUsPerConnection, handshakeMs: best.handshakeMs, rounds });
    } finally {
      await sut.stop();
    }
  }
  const of = (system) => rows.find((r) => r.system === system);
  const herald = of('herald');
  const ratio = (other) => (herald && other ? Math.round((herald.connectionsPerSec / other.connectionsPerSec) * 100) / 100 : null);
  return { rows, ratios: [{ group: 'connections per second', heraldVsRaw: ratio(of('raw')), heraldVsSocketIo: ratio(of('sio')) }] };
}
