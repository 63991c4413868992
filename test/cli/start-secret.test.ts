/**
 * `herald start` without JWT_SECRET keeps the secret it generated in a file of the
 * user's alone, says so in its banner, and `herald token` signs with it: tokens for the
 * running server beyond the banner's. The file goes when the server stops. And a
 * service whose configuration lacks a key stops at once, before any Redis connection.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHerald, startHerald } from '../support/herald.js';
import { TestClient } from '../support/ws-client.js';

// Its own temporary directory: other tests' herald start must not share the file.
const ownTmp = mkdtempSync(join(tmpdir(), 'herald-secret-test-'));
afterAll(() => rmSync(ownTmp, { recursive: true, force: true }));

describe('the generated secret of herald start', () => {
  it('is kept in a 0600 file the banner names, herald token signs with it, and it is removed at shutdown', async () => {
    const herald = await startHerald({ env: { JWT_SECRET: undefined, TMPDIR: ownTmp } });
    let stopped = false;
    try {
      const line = await herald.waitForLine((text) => text.includes('mode 0600'));
      const file = /kept in (\S+) \(mode 0600\)/.exec(line)?.[1];
      expect(file, line).toBeDefined();
      expect(file!.startsWith(ownTmp)).toBe(true);
      expect(statSync(file!).mode & 0o777).toBe(0o600);
      expect(statSync(join(file!, '..')).mode & 0o777).toBe(0o700);

      const minted = await runHerald(['token', '--sub', 'alice', '--channels', 'merchant:m_7'], { TMPDIR: ownTmp });
      expect(minted.code, minted.stderr).toBe(0);
      const client = await TestClient.open(`ws://127.0.0.1:${herald.port}/v1/ws`, { token: minted.stdout.trim() });
      try {
        // open() resolves on the connected frame: the server accepted the token.
        expect(client.frames[0]?.type).toBe('connected');
      } finally {
        client.close();
      }

      await herald.stop();
      stopped = true;
      expect(() => statSync(file!)).toThrow();
      const after = await runHerald(['token', '--sub', 'alice', '--channels', 'merchant:m_7'], { TMPDIR: ownTmp });
      expect(after.code).toBe(64);
      expect(after.stderr).toContain('JWT_SECRET must be set');
    } finally {
      if (!stopped) await herald.stop();
    }
  });
});

describe('configuration checked whole before anything connects', () => {
  it.each([
    ['edge', { REDIS_URL: 'redis://127.0.0.1:1' }, 'JWT_SECRET'],
    ['ingest', { REDIS_URL: 'redis://127.0.0.1:1' }, 'INGEST_API_KEYS'],
  ] as const)('herald %s with an unreachable Redis and no key: exit 78 naming the key, no connection attempt', async (mode, env, variable) => {
    const started = Date.now();
    const result = await runHerald([mode], { ...env, LOG_LEVEL: 'debug' });
    expect(result.code, result.stderr).toBe(78);
    expect(result.stderr).toMatch(new RegExp(`^herald: invalid configuration: ${variable}`));
    expect(result.stdout).not.toMatch(/ECONNREFUSED|redis client error/i);
    // Well under the 5 s an attempt to reach the broker would take before failing.
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
