/**
 * The secret `herald start` generated, kept where `herald token` finds it: without it an
 * operator could mint no token for the running server beyond the banner's. The file is
 * the user's alone (a 0700 directory, mode 0600), holds one line, and is removed when
 * that server stops. Two `herald start`s without JWT_SECRET: the later one's secret is
 * in the file (and the earlier one no longer removes it on exit).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function startSecretPath(): string {
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(tmpdir(), `herald-${user}`, 'start-secret');
}

export function writeStartSecret(secret: string): string {
  const path = startSecretPath();
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return path;
}

/** The secret of the running `herald start`, if one generated it. */
export function readStartSecret(): string | undefined {
  try {
    const secret = readFileSync(startSecretPath(), 'utf8').trim();
    return secret.length > 0 ? secret : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file if it still holds this secret (another start may have replaced it). */
export function removeStartSecret(secret: string): void {
  if (readStartSecret() === secret) rmSync(startSecretPath(), { force: true });
}
