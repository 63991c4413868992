/**
 * Global setup of the integration project: makes sure `redis-server` (7.0 or newer,
 * for sharded pub/sub) and `redis-cli` are on PATH, installing the Debian package with
 * apt-get when running as root; otherwise stops with one clear line. Also gives the
 * workers a dir where they record the PIDs of the servers they start, and kills what
 * is left there at the end (a worker that crashed cannot clean up after itself).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PID_DIR_ENV, reapRegisteredPids } from './redis.js';

const INSTALL_HINT = 'install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) and run the tests again';

function redisVersion(): string | undefined {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  return /v=(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ?? 'unknown';
}

function hasRedisCli(): boolean {
  return spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
}

function installWithApt(): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log('integration tests: redis-server not found, installing it with apt-get');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], { stdio: 'inherit', env });
}

function ensureRedis(): void {
  if (redisVersion() === undefined || !hasRedisCli()) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
    if (!isRoot || !hasApt) throw new Error(`redis-server (with redis-cli) is not on PATH: the integration tests need it; ${INSTALL_HINT}`);
    installWithApt();
  }
  const version = redisVersion();
  if (version === undefined) throw new Error(`redis-server is still not on PATH after apt-get install; ${INSTALL_HINT}`);
  const major = Number(version.split('.')[0]);
  if (Number.isFinite(major) && major < 7) {
    throw new Error(`redis-server ${version} is too old: the integration tests need 7.0 or newer (sharded pub/sub); ${INSTALL_HINT}`);
  }
}

export default function setup(): () => void {
  ensureRedis();
  const pidDir = mkdtempSync(join(tmpdir(), 'herald-test-pids-'));
  // Workers are started after the global setup and inherit its environment.
  process.env[PID_DIR_ENV] = pidDir;
  return () => {
    const killed = reapRegisteredPids(pidDir, readdirSync(pidDir));
    if (killed > 0) console.warn(`integration tests: killed ${killed} redis-server process(es) left behind`);
    rmSync(pidDir, { recursive: true, force: true });
  };
}
