#!/usr/bin/env node
/**
 * A/B of the `connect` scenario: the same connection storm as `pnpm bench connect`, run
 * against several builds (or settings) of the edge in turn, round after round, so that
 * the noise of this shared machine falls on every variant alike. Not a scenario: it
 * writes nothing to results/, it prints one line per round and a summary.
 *
 *   node bench/experiments/connect-ab.mjs --variant base=/tmp/hv/base/services/herald/dist/main.js \
 *        --variant new=services/herald/dist/main.js [--variant raw=raw] [--cycles 4] [--rounds 2]
 *   a variant is name=<herald CLI main.js>[,K=V...] (extra edge environment) or name=raw
 *
 * Per round: connections/s (generators' first connect to last `connected`), and CPU per
 * connection of the server, the load generators (from their /proc counters, after their
 * start-up) and redis-server; `bg` is what other processes of the machine used (in cores).
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Fleet } from '../lib/fleet.mjs';
import { machineBusySeconds, waitForQuiet } from '../lib/measure.mjs';
import { CLI, SECRET, cpuSeconds, cpuSplit, sleep, spawnServer, startRedis } from '../lib/proc.mjs';

const { values } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true },
    cycles: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10000' },
    'in-flight': { type: 'string', default: '400' },
    profile: { type: 'string' },
    perf: { type: 'string' },
  },
});
const variants = (values.variant ?? [`current=${CLI}`]).map((spec) => {
  const [name, rest] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
  const [target, ...pairs] = rest.split(',');
  return { name, target, env: Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])), rounds: [] };
});
const connections = Number(values.connections);
const inFlight = Number(values['in-flight']);
// --profile <dir>: --cpu-prof of the server (BENCH_LOAD_PROFILE=<dir> profiles the generators).
const nodeArgs = (name) => [
  ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile, '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : []),
  ...(values.perf ? ['--perf-basic-prof'] : []),
];
// --perf <dir>: a system-wide `perf record` of each round (JIT symbols from --perf-basic-prof
// in the server and, through NODE_OPTIONS, in the load generators): CPU time, not wall time.
if (values.perf) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --perf-basic-prof`.trim();

/** redis-server and the server processes (EDGES=<n> in a variant's settings: n of them on one Redis, clients spread over their ports). */
async function start(variant) {
  const redis = await startRedis();
  const { EDGES = '1', ...env } = variant.env;
  const servers = [];
  for (let i = 0; i < Number(EDGES); i++) {
    if (variant.target === 'raw') {
      servers.push(await spawnServer({ name: 'raw', args: ['bench/servers/raw-ws.mjs'], nodeArgs: nodeArgs(variant.name), env: { JWT_SECRET: SECRET, PORT: '0', REDIS_URL: redis.url, ADMISSION: 'redis', ...env } }));
    } else {
      servers.push(await spawnServer({
        name: `herald edge ${variant.name}`,
        args: [variant.target, 'edge'],
        nodeArgs: nodeArgs(variant.name),
        env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', JWT_SECRET: SECRET, REDIS_URL: redis.url, NODE_ID: `edge-${i}`, SHUTDOWN_DRAIN_PERIOD: '100ms', SHUTDOWN_TIMEOUT: '5s', MAX_CONNECTIONS: '1000000', MAX_CONNECTIONS_PER_USER: '100', ...env },
      }));
    }
  }
  return { redis, servers, stop: async () => Promise.all(servers.map((server) => server.stop())) };
}

const system = { meta: { protocol: 'herald', path: '/v1/ws' } };

function specFor(sut) {
  const processes = Math.max(1, Math.ceil(connections / 2500));
  return { processes, total: connections, system, ports: sut.servers.map((server) => server.port), channelsOf: 'none', sampleConnections: 0, concurrency: Math.floor(inFlight / processes), distinctUsers: true, reportMs: 200 };
}

/** One round on warm generators (as the `connect` scenario runs them). */
async function round(variant, sut, fleet) {
  const serverCpu = () => sut.servers.reduce((sum, server) => sum + cpuSeconds(server.pid), 0);
  const serverSys = () => sut.servers.reduce((sum, server) => sum + cpuSplit(server.pid).system, 0);
  const server0 = serverCpu();
  const serverSys0 = serverSys();
  const redis0 = cpuSeconds(sut.redis.pid);
  const loadPids = fleet.workers.map((w) => w.child.pid);
  const loadSys0 = loadPids.reduce((sum, pid) => sum + cpuSplit(pid).system, 0);
  const load0 = loadPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const busy0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  await fleet.start(specFor(sut));
  const perf = values.perf ? spawn('perf', ['record', '-a', '-g', '-F', '2999', '-o', `${values.perf}/${variant.name}-${Date.now()}.data`], { stdio: 'ignore' }) : undefined;
  const ready = await fleet.waitReady();
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((resolve) => perf.once('exit', resolve));
  }
  const server = serverCpu() - server0;
  const serverSystem = serverSys() - serverSys0;
  const redis = cpuSeconds(sut.redis.pid) - redis0;
  // From the generators' own counters between `go` and ready (their minting excluded);
  // the system share from /proc over the whole round.
  const load = fleet.openCpuSeconds();
  const loadSys = loadPids.reduce((sum, pid) => sum + cpuSplit(pid).system, 0) - loadSys0;
  const loadAll = loadPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - load0;
  const self = process.cpuUsage(self0);
  const busy = machineBusySeconds() - busy0;
  const window = (performance.now() - t0) / 1000;
  const seconds = ready.openMs / 1000;
  const per = (s) => Math.round((s * 1e6) / ready.live);
  const row = {
    perSecond: Math.round(ready.live / seconds),
    server: per(server),
    serverSys: per(serverSystem),
    load: per(load),
    loadSys: per(loadSys),
    redis: per(redis),
    // Busy time of the machine that none of ours explains, in cores, over the round.
    bg: Math.max(0, (busy - server - loadAll - redis - (self.user + self.system) / 1e6) / window),
    errors: ready.errors,
  };
  await fleet.close({ exit: false });
  return row;
}

const line = (name, r) => `${name.padEnd(10)} ${String(r.perSecond).padStart(5)}/s  server ${String(r.server).padStart(4)} us (sys ${String(r.serverSys).padStart(3)})  load ${String(r.load).padStart(4)} us (sys ${String(r.loadSys).padStart(3)})  redis ${String(r.redis).padStart(3)} us  bg ${r.bg.toFixed(2)}${r.errors ? `  errors ${r.errors}` : ''}`;

for (let cycle = 0; cycle < Number(values.cycles); cycle++) {
  // Rotate the order so that neither variant always runs first after a pause.
  const order = variants.map((_, i) => variants[(i + cycle) % variants.length]);
  for (const variant of order) {
    const sut = await start(variant);
    let fleet;
    try {
      // Two warm-up rounds, not counted, with the generators every round then uses (the
      // first round after one warm-up still ran 20-40% more CPU per connection).
      fleet = await Fleet.open(specFor(sut));
      await fleet.waitReady();
      await fleet.close({ exit: false });
      await fleet.start(specFor(sut));
      await fleet.waitReady();
      await fleet.close({ exit: false });
      for (let i = 0; i < Number(values.rounds); i++) {
        await sleep(1000);
        await waitForQuiet({ ownPids: [...sut.servers.map((server) => server.pid), sut.redis.pid, ...fleet.workers.map((w) => w.child.pid)], threshold: 0.1 });
        const r = await round(variant, sut, fleet);
        variant.rounds.push(r);
        console.log(line(variant.name, r));
      }
    } finally {
      await fleet?.exit();
      await sut.stop();
      await sut.redis.stop();
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log('\nmedian (best) over the rounds with bg < 0.1 cores (all rounds when none was):');
for (const v of variants) {
  const quiet = v.rounds.filter((r) => r.bg < 0.1);
  const rs = quiet.length > 0 ? quiet : v.rounds;
  if (rs.length === 0) continue;
  console.log(
    `${v.name.padEnd(10)} ${median(rs.map((r) => r.perSecond))}/s (best ${Math.max(...rs.map((r) => r.perSecond))})  server ${median(rs.map((r) => r.server))} us  load ${median(rs.map((r) => r.load))} us  redis ${median(rs.map((r) => r.redis))} us  total ${median(rs.map((r) => r.server + r.load + r.redis))} us  [${quiet.length}/${v.rounds.length} quiet rounds]`,
  );
}
process.exit(0);
