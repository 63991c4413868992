/**
 * connect: new connections per second into one node, each with JWT verification and
 * admission on Redis (Herald: `herald edge` with MAX_CONNECTIONS set, so every
 * connection runs the atomic admission script; peers: jsonwebtoken verification and
 * a Redis INCR per connection). A storm of `connections` clients from load-generator
 * processes (handshakes in flight kept under the listen backlog); a connection counts
 * once its first frame (`connected` / Socket.IO's connect ack) arrives. Each round
 * ends with every client closing; the best of `rounds` is reported with all rounds.
 * The same (warm) generator processes run every round; their CPU from the start of the
 * storm to their last `connected` is reported next to the server's.
 *
 * Herald runs twice: one edge process, and `EDGE_WORKERS=2` (two processes on one port,
 * row `herald-2w`; its CPU counts the primary and both workers).
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
    heraldWorkers: [1, 2],
  };
}

/** Each system to run, Herald once per worker count: [row name, system, extra env]. */
function runsOf(options) {
  const runs = [];
  for (const system of options.systems) {
    if (system !== 'herald') runs.push([system, system, {}]);
    else for (const workers of options.heraldWorkers ?? [1]) runs.push([workers === 1 ? 'herald' : `herald-${workers}w`, system, workers === 1 ? {} : { EDGE_WORKERS: String(workers) }]);
  }
  return runs;
}

export async function run(options, progress) {
  const rows = [];
  for (const [name, system, workersEnv] of runsOf(options)) {
    const label = `${name} ${options.connections} connections`;
    progress(`${label}: starting`);
    const sut = await startSystem(system, {
      topology: 'redis',
      nodes: 1,
      admission: true,
      profileDir: options.profileDir,
      env: system === 'herald' ? { MAX_CONNECTIONS: '1000000', MAX_CONNECTIONS_PER_USER: '100', ...workersEnv } : {},
    });
    try {
      const edge = sut.edges[0];
      const ownPids = [edge.pid, sut.redis.pid, ...sut.ingest.map((p) => p.pid)];
      const processes = Math.max(1, Math.ceil(options.connections / 2500));
      const spec = {
        processes,
        total: options.connections,
        system: sut,
        ports: [edge.port],
        channelsOf: 'none',
        sampleConnections: 0,
        concurrency: Math.floor(options.inFlight / processes),
        distinctUsers: true,
        reportMs: 200,
      };
      // The same generator processes run every round, after two full warm-up rounds (not
      // reported): fresh generators spent a third of their CPU compiling and growing their
      // heap during the storm, on the cores the server needs, and the first round after a
      // single warm-up still ran 20-40% more CPU per connection (server and generators)
      // than the next ones.
      const fleet = await Fleet.open(spec);
      const rounds = [];
      try {
        await fleet.waitReady();
        await fleet.close({ exit: false });
        await fleet.start(spec);
        await fleet.waitReady();
        await fleet.close({ exit: false });
        for (let round = 0; round < options.rounds; round++) {
          await sleep(1000);
          await waitForQuiet({ ownPids: [...ownPids, ...fleet.workers.map((w) => w.child.pid)], progress: (m) => progress(`${label}: ${m}`) });
          const cpu0 = cpuSeconds(edge.pid);
          const redisCpu0 = cpuSeconds(sut.redis.pid);
          await fleet.start(spec);
          // The open time is measured by the generators: from their first connect to their last `connected`.
          const ready = await fleet.waitReady({ progress: (m) => progress(`${label} round ${round + 1}: ${m}`) });
          const seconds = ready.openMs / 1000;
          const cpu = cpuSeconds(edge.pid) - cpu0;
          const redisCpu = cpuSeconds(sut.redis.pid) - redisCpu0;
          const loadCpu = fleet.openCpuSeconds();
          const perSecond = Math.round(ready.live / seconds);
          const handshake = fleet.connect.summaryMs();
          rounds.push({
            connections: ready.live,
            errors: ready.errors,
            seconds: Math.round(seconds * 1000) / 1000,
            connectionsPerSec: perSecond,
            serverCpuUsPerConnection: Math.round((cpu * 1e6) / ready.live),
            loadGeneratorCpuUsPerConnection: Math.round((loadCpu * 1e6) / ready.live),
            serverCpuPercent: Math.round((cpu / seconds) * 100),
            redisCpuPercent: Math.round((redisCpu / seconds) * 100),
            loadGeneratorCpuPercent: Math.round((loadCpu / seconds) * 100),
            handshakeMs: handshake,
          });
          const last = rounds.at(-1);
          progress(`${label} round ${round + 1}: ${fmt(perSecond)} connections/s (${ready.live} in ${seconds.toFixed(2)} s), ${last.serverCpuUsPerConnection} us server and ${last.loadGeneratorCpuUsPerConnection} us load-generator CPU per connection, handshake p50 ${handshake.p50} ms p99 ${handshake.p99} ms`);
          await fleet.close({ exit: false });
        }
      } finally {
        await fleet.exit();
      }
      const best = rounds.reduce((a, b) => (b.connectionsPerSec > a.connectionsPerSec ? b : a));
      const sorted = rounds.map((r) => r.connectionsPerSec).sort((a, b) => a - b);
      rows.push({ system: name, connectionsPerSec: best.connectionsPerSec, medianConnectionsPerSec: sorted[Math.floor(sorted.length / 2)], serverCpuUsPerConnection: best.serverCpuUsPerConnection, loadGeneratorCpuUsPerConnection: best.loadGeneratorCpuUsPerConnection, handshakeMs: best.handshakeMs, rounds });
    } finally {
      await sut.stop();
    }
  }
  const of = (system) => rows.find((r) => r.system === system);
  const herald = of('herald');
  const ratio = (other) => (herald && other ? Math.round((herald.connectionsPerSec / other.connectionsPerSec) * 100) / 100 : null);
  return { rows, ratios: [{ group: 'connections per second', heraldVsRaw: ratio(of('raw')), heraldVsSocketIo: ratio(of('sio')) }] };
}
