// Finds a pnpm 10 to run: the one on PATH when it is pnpm 10, otherwise the exact
// version pinned in package.json through npx (a fresh machine has only Node and npm).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function pinnedPnpm() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return pkg.packageManager; // "pnpm@10.x.y"
}

let cached;
/** @returns {{cmd: string, args: string[]}} */
export function pnpmCommand() {
  if (cached) return cached;
  try {
    const version = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (version.startsWith('10.')) return (cached = { cmd: 'pnpm', args: [] });
  } catch {
    // not on PATH: fall through to npx
  }
  return (cached = { cmd: 'npx', args: ['--yes', pinnedPnpm()] });
}

/** Runs pnpm with inherited stdio; exits the process when pnpm fails. */
export function pnpm(args, options = {}) {
  const { cmd, args: pre } = pnpmCommand();
  const result = spawnSync(cmd, [...pre, ...args], { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`herald: "pnpm ${args.join(' ')}" failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

/**
 * Installs dependencies and builds every package; quiet when already done.
 * `whenStale`: skip pnpm entirely when the install and the build are current (the
 * `herald` script: every `npm run herald -- ...` would otherwise spend seconds checking).
 * `toStderr`: pnpm's output goes to stderr, so that the command's stdout is its own
 * (`TOKEN=$(npm run -s herald -- token ...)` captures exactly the token).
 */
export function installAndBuild({ whenStale = false, toStderr = false } = {}) {
  const stdio = toStderr ? ['ignore', 2, 2] : ['ignore', 'inherit', 'inherit'];
  const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
  const installed = installStamp();
  if (!whenStale || readStamp() !== installed) {
    pnpm(['install', '--prefer-offline', ...frozen], { stdio });
    writeFileSync(STAMP_FILE, installed);
  }
  if (!whenStale || staleBuild()) pnpm(['run', 'build'], { stdio });
}

const STAMP_FILE = join(root, 'node_modules', '.herald-install');

/** What the install depends on: the lockfile and every package.json of the workspace. */
function installStamp() {
  const hash = createHash('sha256');
  for (const file of ['pnpm-lock.yaml', 'package.json', ...workspaceDirs().map((dir) => join(dir, 'package.json'))]) {
    const path = join(root, file);
    if (existsSync(path)) hash.update(file).update(readFileSync(path));
  }
  return hash.digest('hex');
}

function readStamp() {
  try {
    return readFileSync(STAMP_FILE, 'utf8');
  } catch {
    return undefined;
  }
}

/** packages/* and services/* (the TypeScript projects of the build). */
function workspaceDirs() {
  return ['packages', 'services'].flatMap((group) =>
    readdirSync(join(root, group), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(group, entry.name)),
  );
}

/** A project is stale when a file it builds from is newer than its build info (tsc -b's record). */
function staleBuild() {
  for (const dir of workspaceDirs()) {
    const info = join(root, dir, 'tsconfig.tsbuildinfo');
    if (!existsSync(join(root, dir, 'tsconfig.json'))) continue;
    if (!existsSync(info)) return true;
    const built = statSync(info).mtimeMs;
    if (newestMtime(join(root, dir), built) > built) return true;
  }
  return false;
}

/** The newest mtime below `dir` (sources and configuration, not dist or node_modules), stopping early past `than`. */
function newestMtime(dir, than) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.endsWith('.tsbuildinfo')) continue;
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path, than) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
    if (newest > than) return newest;
  }
  return newest;
}
