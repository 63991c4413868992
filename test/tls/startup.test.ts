/**
 * PROTOCOL.md section 12, start-up: TLS_CERT_FILE and TLS_KEY_FILE both or neither; a
 * missing file, a file that is not PEM, or a key of another certificate stops the
 * process with exit 78 and one line naming the variable; TLS=self-signed is for
 * `herald start` only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, runHerald } from '../support/herald.js';
import { createCa, tempDir, type Issued } from './pki.js';

let dir: string;
let certFile: string;
let keyFile: string;
let otherKeyFile: string;

beforeAll(async () => {
  const ca = await createCa();
  const leaf: Issued = await ca.issue();
  const other: Issued = await ca.issue();
  dir = tempDir('tls-startup');
  certFile = join(dir, 'tls.crt');
  keyFile = join(dir, 'tls.key');
  otherKeyFile = join(dir, 'other.key');
  writeFileSync(certFile, leaf.cert);
  writeFileSync(keyFile, leaf.key);
  writeFileSync(otherKeyFile, other.key);
  writeFileSync(join(dir, 'garbage.txt'), 'this is not a certificate\n');
});

async function refused(mode: string, env: Record<string, string>): Promise<string> {
  const result = await runHerald([mode], { JWT_SECRET: TEST_SECRET, REDIS_URL: 'redis://127.0.0.1:1', ...env });
  expect(result.code, result.stderr).toBe(78);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('TLS files at start', () => {
  it('refuses TLS_CERT_FILE without TLS_KEY_FILE, and the other way round', async () => {
    expect(await refused('start', { TLS_CERT_FILE: certFile })).toMatch(/^herald: invalid configuration: TLS_KEY_FILE must be set too/);
    expect(await refused('ingest', { TLS_KEY_FILE: keyFile })).toMatch(/^herald: invalid configuration: TLS_CERT_FILE must be set too/);
  });

  it('refuses a missing file, naming its variable', async () => {
    expect(await refused('start', { TLS_CERT_FILE: join(dir, 'missing.crt'), TLS_KEY_FILE: keyFile })).toMatch(/^herald: invalid configuration: TLS_CERT_FILE: cannot read ".*missing\.crt": no such file$/);
    expect(await refused('edge', { TLS_CERT_FILE: certFile, TLS_KEY_FILE: join(dir, 'missing.key') })).toMatch(/^herald: invalid configuration: TLS_KEY_FILE: cannot read ".*missing\.key": no such file$/);
    expect(await refused('start', { TLS_CERT_FILE: dir, TLS_KEY_FILE: keyFile })).toMatch(/^herald: invalid configuration: TLS_CERT_FILE: cannot read .*a directory/);
  });

  it('refuses a file that is not PEM', async () => {
    expect(await refused('start', { TLS_CERT_FILE: join(dir, 'garbage.txt'), TLS_KEY_FILE: keyFile })).toMatch(/^herald: invalid configuration: TLS_CERT_FILE: ".*garbage\.txt" is not a PEM certificate/);
    expect(await refused('ingest', { TLS_CERT_FILE: certFile, TLS_KEY_FILE: join(dir, 'garbage.txt') })).toMatch(/^herald: invalid configuration: TLS_KEY_FILE: ".*garbage\.txt" is not a PEM private key/);
    // A certificate where the key belongs, and a key where the certificate belongs.
    expect(await refused('start', { TLS_CERT_FILE: certFile, TLS_KEY_FILE: certFile })).toMatch(/^herald: invalid configuration: TLS_KEY_FILE: .* is not a PEM private key/);
    expect(await refused('start', { TLS_CERT_FILE: keyFile, TLS_KEY_FILE: keyFile })).toMatch(/^herald: invalid configuration: TLS_CERT_FILE: .* is not a PEM certificate/);
  });

  it('refuses a key that does not match the certificate, in every mode', async () => {
    const expected = /^herald: invalid configuration: TLS_KEY_FILE: the key in ".*other\.key" does not match the certificate in TLS_CERT_FILE/;
    const env = { TLS_CERT_FILE: certFile, TLS_KEY_FILE: otherKeyFile };
    expect(await refused('start', env)).toMatch(expected);
    expect(await refused('edge', env)).toMatch(expected);
    expect(await refused('ingest', env)).toMatch(expected);
    // The EDGE_WORKERS primary refuses it itself rather than let every worker fail.
    expect(await refused('edge', { ...env, EDGE_WORKERS: '2' })).toMatch(expected);
  });

  it('takes TLS=self-signed in herald start only', async () => {
    expect(await refused('edge', { TLS: 'self-signed' })).toMatch(/^herald: invalid configuration: TLS=self-signed is for `herald start` only/);
    expect(await refused('ingest', { TLS: 'self-signed' })).toMatch(/^herald: invalid configuration: TLS=self-signed is for `herald start` only/);
    expect(await refused('start', { TLS: 'on' })).toMatch(/^herald: invalid configuration: TLS must be "self-signed" or unset/);
    expect(await refused('start', { TLS: 'self-signed', TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile })).toMatch(/^herald: invalid configuration: TLS=self-signed and TLS_CERT_FILE\/TLS_KEY_FILE are exclusive/);
  });
});
