/**
 * Debian's Chromium for the browser tests (driven by playwright-core): its path, its
 * launch flags, and whether it can be had here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Makes Chromium available if it can (root and apt); otherwise says why not. */
export function chromiumUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.getuid?.() !== 0) return `${CHROMIUM} is missing and the tests do not run as root to install the Debian package chromium`;
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 180_000, env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'ignore', timeout: 600_000, env });
  } catch (error) {
    return `apt-get install chromium failed: ${(error as Error).message}`;
  }
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} still missing after apt-get install chromium`;
}
