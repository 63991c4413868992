// Finds a pnpm 10 to run: the one on PATH when it is pnpm 10, otherwise the exact
// version pinned in package.json through npx (a fresh machine has only Node and npm).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** Installs dependencies and builds every package; quiet when already done. */
export function installAndBuild() {
  const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
  pnpm(['install', '--prefer-offline', ...frozen], { stdio: ['ignore', 'inherit', 'inherit'] });
  pnpm(['run', 'build']);
}
