#!/usr/bin/env node
// `npm run test:image`: builds the container image and checks it from outside.
//
//   1. Debian packages: podman, buildah, mmdebstrap, redis-server (apt-get when root).
//   2. The base image localhost/herald-node:24-bookworm (scripts/image-base.sh: mmdebstrap
//      minbase + Node and npm from npm packages), unless it exists already.
//   3. infra/docker/Dockerfile built with podman (buildah inside), NODE_IMAGE = that base.
//   4. A redis-server on 127.0.0.1 and a free port; `herald edge` and `herald ingest`
//      containers on the host network, listening on 127.0.0.1 only.
//   5. scripts/image-conformance.mjs against them (HTTP and WebSocket APIs), then SIGTERM
//      to the edge container (drain: readyz 503, close 1001, exit 0) and to the ingest.
//   6. Prints the image size and the start time (container start to /readyz 200), and
//      removes the containers and the Redis it started, whatever happened.
//
// Not part of `npm test`. Environment:
//   HERALD_IMAGE (localhost/herald:test), HERALD_BASE_IMAGE (localhost/herald-node:24-bookworm),
//   REBUILD_BASE=1 (rebuild the base), IMAGE_NO_CACHE=1 (build without the layer cache),
//   IMAGE_CONTEXT=head (build `git archive HEAD`
//   instead of the work tree), HERALD_BUILD_CA_FILE (CA bundle handed to the build as the
//   `ca-certificates` secret; default /etc/ssl/certs/ca-certificates.crt when present),
//   START_SAMPLES (containers started per service to time the start, default 3),
//   TEST_IMAGE_TIMEOUT (seconds for everything, default 1500).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pnpm, root } from './pnpm.mjs';

const started = Date.now();
const IMAGE = process.env.HERALD_IMAGE ?? 'localhost/herald:test';
const BASE = process.env.HERALD_BASE_IMAGE ?? 'localhost/herald-node:24-bookworm';
const TIMEOUT_S = Number(process.env.TEST_IMAGE_TIMEOUT ?? 1500);
const SECRET = `image-test-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}-0123456789`;
const tag = `${process.pid}`;
const names = { edge: `herald-image-test-edge-${tag}`, ingest: `herald-image-test-ingest-${tag}` };
const log = (message) => console.log(`test:image: ${message}`);

// --- cleanup, on every way out
const createdContainers = new Set();
let redis;
let workDir;
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const name of createdContainers) spawnSync(PODMAN[0], [...PODMAN.slice(1), 'rm', '-f', '-t', '0', name], { stdio: 'ignore', timeout: 60_000 });
  if (redis && redis.exitCode === null) redis.kill('SIGKILL');
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`test:image: not done within ${TIMEOUT_S} s (TEST_IMAGE_TIMEOUT); stopping`);
  cleanup();
  process.exit(1);
}, TIMEOUT_S * 1000).unref();

function fail(message) {
  console.error(`test:image: ${message}`);
  process.exit(1);
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// --- 1. packages
const PACKAGES = [
  ['podman', 'podman'],
  ['buildah', 'buildah'],
  ['mmdebstrap', 'mmdebstrap'],
  ['crun', 'crun'],
  ['redis-server', 'redis-server'],
];
const missing = PACKAGES.filter(([command]) => !has(command)).map(([, pkg]) => pkg);
if (missing.length > 0) {
  if (process.getuid?.() !== 0 || !has('apt-get')) fail(`needs ${missing.join(', ')} (Debian: sudo apt-get install -y ${missing.join(' ')})`);
  log(`installing ${missing.join(' ')} with apt-get`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing, 'uidmap', 'fuse-overlayfs', 'slirp4netns', 'containers-storage'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

// --- podman's global options for this host
function hybridCgroups() {
  // cgroup v1 under /sys/fs/cgroup plus a v2 hierarchy that holds a controller: crun refuses it.
  try {
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    if (!/ \/sys\/fs\/cgroup\/unified cgroup2 /.test(mounts)) return false;
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}
const hasSystemd = existsSync('/run/systemd/system');
const PODMAN = ['podman'];
if (!hasSystemd) PODMAN.push('--cgroup-manager=cgroupfs', '--events-backend=file');
if (hybridCgroups()) PODMAN.push(`--runtime=${join(root, 'scripts', 'crun-hybrid-cgroups.sh')}`);
// Root podman asks for nofile and nproc limits of 1048576 in each container; without
// CAP_SYS_RESOURCE (a VM or a container host) it cannot raise them: ask for what we have.
const hardLimit = (flag) => {
  const value = execFileSync('bash', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).trim();
  return value === 'unlimited' ? Infinity : Number(value);
};
const ULIMITS = [
  `--ulimit=nofile=${Math.min(hardLimit('n'), 1048576)}:${Math.min(hardLimit('n'), 1048576)}`,
  `--ulimit=nproc=${Math.min(hardLimit('u'), 32768)}:${Math.min(hardLimit('u'), 32768)}`,
];
log(`podman: ${[...PODMAN, ...ULIMITS].join(' ')}`);

function podman(args, { timeoutMs = 120_000, quiet = false } = {}) {
  const result = spawnSync(PODMAN[0], [...PODMAN.slice(1), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) fail(`podman ${args.join(' ')} failed (${result.status ?? result.signal ?? result.error})${quiet ? `: ${result.stderr}` : ''}`);
  return result.stdout.trim();
}

// The `ws` client of the conformance checks comes from the test workspace's dependencies.
if (!existsSync(join(root, 'test', 'node_modules', 'ws'))) pnpm(['install', '--prefer-offline', ...(process.env.CI ? ['--frozen-lockfile'] : [])]);

// --- 2. the base image
const baseStarted = Date.now();
{
  const result = spawnSync('bash', [join(root, 'scripts', 'image-base.sh'), BASE], {
    stdio: 'inherit',
    timeout: 15 * 60_000,
    env: { ...process.env, PODMAN: PODMAN.join(' '), FORCE: process.env.REBUILD_BASE === '1' ? '1' : '0' },
  });
  if (result.status !== 0) fail(`scripts/image-base.sh failed (${result.status ?? result.signal})`);
}
const baseSeconds = (Date.now() - baseStarted) / 1000;

// --- 3. the image
workDir = mkdtempSync(join(tmpdir(), 'herald-image-test-'));
let context = root;
if (process.env.IMAGE_CONTEXT === 'head') {
  context = join(workDir, 'context');
  execFileSync('sh', ['-c', `mkdir -p "${context}" && git -C "${root}" archive HEAD | tar -x -C "${context}"`], { stdio: 'inherit' });
}
const revision = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout?.trim() || 'unknown';
const caFile = process.env.HERALD_BUILD_CA_FILE ?? (existsSync('/etc/ssl/certs/ca-certificates.crt') ? '/etc/ssl/certs/ca-certificates.crt' : '');
const buildArgs = [
  'build',
  '-f', join(root, 'infra', 'docker', 'Dockerfile'),
  '--build-arg', `NODE_IMAGE=${BASE}`,
  '--build-arg', `REVISION=${revision}`,
  '--build-arg', `CREATED=${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
  ...(caFile ? ['--secret', `id=ca-certificates,src=${caFile}`] : []),
  '--network=host',
  ...ULIMITS,
  ...(process.env.IMAGE_NO_CACHE === '1' ? ['--no-cache'] : []),
  '-t', IMAGE,
  context,
];
log(`building: podman ${buildArgs.join(' ')}`);
const buildStarted = Date.now();
{
  const result = spawnSync(PODMAN[0], [...PODMAN.slice(1), ...buildArgs], { stdio: 'inherit', timeout: 20 * 60_000 });
  if (result.status !== 0) fail(`podman build failed (${result.status ?? result.signal})`);
}
const buildSeconds = (Date.now() - buildStarted) / 1000;
const imageSize = Number(podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE], { quiet: true }));
const baseSize = Number(podman(['image', 'inspect', '--format', '{{.Size}}', BASE], { quiet: true }));

// --- 4. Redis and the containers
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const ready = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      child.stdout.on('data', () => {
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) return { child, port };
    child.kill('SIGKILL');
  }
  fail('redis-server did not start');
}

/** Polls /readyz every 10 ms; undefined when the container exits or the time is up. */
async function waitReady(url, name, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (let polls = 1; ; polls++) {
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return Date.now();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) return undefined;
    if (polls % 50 === 0 && podman(['inspect', '--format', '{{.State.Status}}', name], { quiet: true }) !== 'running') return undefined;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** podman's StartedAt (RFC 3339 with nanoseconds) in epoch milliseconds. */
function startedAtMs(name) {
  const text = podman(['inspect', '--format', '{{.State.StartedAt}}', name], { quiet: true });
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))? ([+-]\d{4})/.exec(text);
  if (!match) return NaN;
  const ms = (match[3] ?? '0').padEnd(3, '0').slice(0, 3);
  return Date.parse(`${match[1]}T${match[2]}.${ms}${match[4].slice(0, 3)}:${match[4].slice(3)}`);
}

async function runContainer(service, env, name = names[service]) {
  const args = ['run', '-d', '--name', name, '--network=host', ...ULIMITS];
  for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
  args.push(IMAGE, service);
  const runAt = Date.now();
  createdContainers.add(name);
  podman(args, { quiet: true });
  const port = service === 'edge' ? env.PORT : env.INGEST_PORT;
  const url = `http://127.0.0.1:${port}`;
  const readyAt = await waitReady(url, name, 30_000);
  if (readyAt === undefined) {
    console.error(containerLogs(name).split('\n').slice(-40).join('\n'));
    const state = podman(['inspect', '--format', '{{.State.Status}} (exit code {{.State.ExitCode}})', name], { quiet: true });
    fail(`${service} container not ready within 30 s: ${state}; its last log lines are above`);
  }
  const startedAt = startedAtMs(name);
  return { name, url, runToReady: readyAt - runAt, startToReady: readyAt - startedAt };
}

function containerLogs(name) {
  const result = spawnSync(PODMAN[0], [...PODMAN.slice(1), 'logs', name], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

const { runConformance } = await import('./image-conformance.mjs');

redis = undefined;
const startedRedis = await startRedis();
redis = startedRedis.child;
log(`redis-server on 127.0.0.1:${startedRedis.port} (pid ${redis.pid})`);
const [edgePort, ingestPort] = [await freePort(), await freePort()];
const common = { HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${startedRedis.port}`, JWT_SECRET: SECRET, LOG_LEVEL: 'info' };
const envOf = {
  edge: { ...common, NODE_ID: 'image-test-edge', PORT: edgePort, SHUTDOWN_DRAIN_PERIOD: '2s', SHUTDOWN_TIMEOUT: '10s' },
  ingest: { ...common, NODE_ID: 'image-test-ingest', INGEST_PORT: ingestPort },
};
// Start time: START_SAMPLES containers of each service in turn (the last one stays for
// the checks); the median of container start (podman's StartedAt) to /readyz 200.
const SAMPLES = Math.max(1, Number(process.env.START_SAMPLES ?? 3));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const samples = { edge: [], ingest: [] };
const containers = {};
for (const service of ['edge', 'ingest']) {
  for (let i = 1; i <= SAMPLES; i++) {
    const last = i === SAMPLES;
    const container = await runContainer(service, envOf[service], last ? names[service] : `${names[service]}-start${i}`);
    samples[service].push(container);
    log(`${service} ready at ${container.url}: ${container.startToReady} ms from container start (${container.runToReady} ms from \`podman run\`)`);
    if (last) containers[service] = container;
    else {
      podman(['rm', '-f', '-t', '0', container.name], { quiet: true });
      createdContainers.delete(container.name);
    }
  }
}
const { edge, ingest } = containers;
const startTimes = Object.fromEntries(
  Object.entries(samples).map(([service, list]) => [service, { start: median(list.map((c) => c.startToReady)), run: median(list.map((c) => c.runToReady)), all: list.map((c) => c.startToReady) }]),
);

/** SIGTERM through podman (the image's STOPSIGNAL), then the container's exit code. */
function stopContainer(name) {
  return new Promise((resolve) => {
    const child = spawn(PODMAN[0], [...PODMAN.slice(1), 'stop', '-t', '30', name], { stdio: 'ignore' });
    child.once('exit', () => resolve(Number(podman(['inspect', '--format', '{{.State.ExitCode}}', name], { quiet: true }))));
  });
}

// --- 5. the checks
const outcome = await runConformance({
  edgeUrl: edge.url,
  ingestUrl: ingest.url,
  secret: SECRET,
  stopEdge: () => stopContainer(edge.name),
  log: (line) => console.log(`  ${line}`),
});
let { passed, failed } = outcome;
const extra = (name, ok, detail = '') => {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`  ${ok ? 'ok' : 'not ok'} - ${name}${!ok && detail ? `: ${detail}` : ''}`);
};
const ingestExit = await stopContainer(ingest.name);
extra('SIGTERM to the ingest container: exit code 0', ingestExit === 0, `exit code ${ingestExit}`);
const logs = { edge: containerLogs(edge.name), ingest: containerLogs(ingest.name) };
for (const [service, text] of Object.entries(logs)) {
  const leaked = [SECRET, ...outcome.tokens].filter((secret) => text.includes(secret));
  extra(`${service} container logs hold no token and no JWT secret`, leaked.length === 0, leaked.length ? `${leaked.length} found` : '');
  extra(`${service} container logs are JSON lines`, text.trim().split('\n').every((line) => line.startsWith('{')), '');
}
const user = podman(['image', 'inspect', '--format', '{{.Config.User}}', IMAGE], { quiet: true });
extra('the image runs as uid 1000 (USER 1000:1000)', user === '1000:1000', user);

if (failed > 0) {
  const logFile = join(tmpdir(), `herald-image-test-${tag}.log`);
  writeFileSync(logFile, `--- edge\n${logs.edge}\n--- ingest\n${logs.ingest}\n`);
  log(`container logs: ${logFile}`);
}

// --- 6. the numbers
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
console.log('');
log(`image ${IMAGE}: ${imageSize} bytes (${mb(imageSize)}); base ${BASE}: ${baseSize} bytes (${mb(baseSize)}); Herald's layer ${mb(imageSize - baseSize)}`);
log(
  `container start to /readyz 200 (median of ${SAMPLES}): edge ${startTimes.edge.start} ms [${startTimes.edge.all.join(', ')}], ingest ${startTimes.ingest.start} ms [${startTimes.ingest.all.join(', ')}]; from \`podman run\`: edge ${startTimes.edge.run} ms, ingest ${startTimes.ingest.run} ms`,
);
log(`base ${baseSeconds.toFixed(1)} s, build ${buildSeconds.toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
cleanup();
process.exit(failed === 0 ? 0 : 1);
