/**
 * `herald start` with TLS=self-signed: a certificate for localhost and 127.0.0.1 made
 * at start (no openssl binary needed), written to a fresh directory so that a client
 * can be told to trust it, and then served like TLS_CERT_FILE / TLS_KEY_FILE.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import type { TlsFiles } from '@herald/runtime';

/** Long enough for a day of development, short enough that a leaked one soon dies. */
const VALID_DAYS = 30;

export async function makeSelfSignedCertificate(): Promise<TlsFiles> {
  const now = new Date();
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + VALID_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  // A directory of its own (mode 0700): the key is readable by this user only.
  const dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, pems.cert, { mode: 0o644 });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  chmodSync(dir, 0o700);
  return { certFile, keyFile };
}
