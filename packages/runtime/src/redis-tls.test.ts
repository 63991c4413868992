import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { readRedisCaFile } from './redis-tls.js';

/** A self-signed CA certificate (no key needed: only its parsing is tested here). */
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUEA18PS2wUpCttXVqFAYwfdtfF/wwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTSGVyYWxkIHVuaXQgdGVzdCBDQTAeFw0yNjEyMDQyMDQ2Mjda
Fw0zNjEyMDEyMDQ2MjdaMB4xHDAaBgNVBAMME0hlcmFsZCB1bml0IHRlc3QgQ0Ew
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARMdOZo/wgM2ErlZMDoZp3j3KClIA2V
hxJfmu/aHIwmABf+LvgclM2y1uI+9R3/2PEaq0QzrwwA+82Gu8xzpeiTo1MwUTAd
BgNVHQ4EFgQU4NUauLPkTiQZyaK1I+LG7JxkT0MwHwYDVR0jBBgwFoAU4NUauLPk
TiQZyaK1I+LG7JxkT0MwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiEA1BbD5aovKwBzPhzZksSrTd5UxDM6QX1qySdn2ZX7brICIE9NOxC5MvGkcQo7
serZCu8f24A0S73Y14tdm1J2xFET
-----END CERTIFICATE-----
`;

const dir = mkdtempSync(join(tmpdir(), 'herald-redis-ca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError thrown');
}

describe('readRedisCaFile', () => {
  it('returns the bytes of a PEM bundle whose certificates all parse', () => {
    const path = file('bundle.pem', `${CA_PEM}\n${CA_PEM}`);
    expect(readRedisCaFile(path).toString('utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('names REDIS_TLS_CA_FILE for a missing file, a directory, a non-PEM file and a broken certificate', () => {
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'absent.pem'), /cannot read .*no such file/],
      [dir, /a directory/],
      [file('key.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /not a PEM certificate file/],
      [file('broken.pem', '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n'), /certificate 1 of .* is not a valid PEM certificate/],
    ];
    for (const [path, message] of cases) {
      const error = configError(() => readRedisCaFile(path));
      expect(error.variable).toBe('REDIS_TLS_CA_FILE');
      expect(error.message).toMatch(/^REDIS_TLS_CA_FILE: /);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    }
  });
});

describe('Redis TLS settings', () => {
  it('are accepted with a rediss:// URL, and REDIS_TLS with cluster nodes', () => {
    const url = loadConfig({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: '/ca.pem', REDIS_TLS_SERVERNAME: 'redis.internal' }, ['edge']);
    expect(url.REDIS_TLS_CA_FILE).toBe('/ca.pem');
    expect(url.REDIS_TLS_SERVERNAME).toBe('redis.internal');
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'a:6379,b:6379', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/ca.pem' }, ['ingest']);
    expect(cluster.REDIS_TLS).toBe(true);
    // herald start has no Redis: the settings are unused, not contradictory.
    expect(loadConfig({ REDIS_TLS_CA_FILE: '/ca.pem' }, ['edge', 'ingest']).REDIS_TLS_CA_FILE).toBe('/ca.pem');
  });

  it('refuse TLS settings for a Redis reached in plaintext', () => {
    expect(configError(() => loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_TLS_CA_FILE: '/ca.pem' }, ['edge'])).variable).toBe('REDIS_TLS_CA_FILE');
    expect(configError(() => loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_TLS_SERVERNAME: 'x' }, ['edge'])).variable).toBe('REDIS_TLS_SERVERNAME');
    expect(configError(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:6379', REDIS_TLS_CA_FILE: '/ca.pem' }, ['edge'])).message).toMatch(/REDIS_TLS=true/);
    expect(configError(() => loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_TLS: 'true' }, ['ingest'])).variable).toBe('REDIS_TLS');
  });
});
