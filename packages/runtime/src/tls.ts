/**
 * The certificate and key of TLS_CERT_FILE and TLS_KEY_FILE (PROTOCOL.md section 12):
 * read and checked together, so that a missing file, a file that is not PEM or a key
 * of another certificate is refused with one line naming the variable, at start as a
 * ConfigError and on rotation as a log line (tls-reload.ts).
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './config.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** Of both files' bytes: a rotation is noticed when it changes. */
  digest: string;
  /** The leaf certificate (the first of the chain). */
  certificate: X509Certificate;
}

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';
const PEM_PRIVATE_KEY = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/** The digest of both files as they are now; throws a ConfigError when one is unreadable. */
export function tlsDigest(files: TlsFiles): string {
  return digestOf(readPem('TLS_CERT_FILE', files.certFile), readPem('TLS_KEY_FILE', files.keyFile));
}

/** Reads and checks both files; throws a ConfigError naming the variable at fault. */
export function readTlsPair(files: TlsFiles): TlsPair {
  const cert = readPem('TLS_CERT_FILE', files.certFile);
  const key = readPem('TLS_KEY_FILE', files.keyFile);
  const certText = cert.toString('utf8');
  if (!certText.includes(PEM_CERTIFICATE)) {
    throw new ConfigError('TLS_CERT_FILE', `TLS_CERT_FILE: "${files.certFile}" is not a PEM certificate (no "${PEM_CERTIFICATE}" line)`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError('TLS_CERT_FILE', `TLS_CERT_FILE: "${files.certFile}" is not a valid PEM certificate: ${oneLine(error)}`);
  }
  const keyText = key.toString('utf8');
  const encrypted = keyText.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || keyText.includes('Proc-Type: 4,ENCRYPTED');
  if (!PEM_PRIVATE_KEY.test(keyText) || encrypted) {
    throw new ConfigError(
      'TLS_KEY_FILE',
      encrypted
        ? `TLS_KEY_FILE: "${files.keyFile}" is an encrypted private key: give the key without a passphrase`
        : `TLS_KEY_FILE: "${files.keyFile}" is not a PEM private key (no "-----BEGIN PRIVATE KEY-----" line)`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key, format: 'pem' });
  } catch (error) {
    throw new ConfigError('TLS_KEY_FILE', `TLS_KEY_FILE: "${files.keyFile}" is not a valid PEM private key: ${oneLine(error)}`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError('TLS_KEY_FILE', `TLS_KEY_FILE: the key in "${files.keyFile}" does not match the certificate in TLS_CERT_FILE ("${files.certFile}")`);
  }
  try {
    // What the server will do with them: catches anything the checks above let through.
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError('TLS_CERT_FILE', `TLS_CERT_FILE: "${files.certFile}" and TLS_KEY_FILE cannot be used together: ${oneLine(error)}`);
  }
  return { cert, key, digest: digestOf(cert, key), certificate };
}

/** What identifies a certificate in the logs: never the key. */
export function describeCertificate(certificate: X509Certificate): Record<string, string> {
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    serial: certificate.serialNumber,
    fingerprint256: certificate.fingerprint256,
    validTo: new Date(certificate.validTo).toISOString(),
  };
}

/** Reads a file a variable names; throws a ConfigError naming the variable when it cannot. */
export function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : oneLine(error);
    throw new ConfigError(variable, `${variable}: cannot read "${path}": ${reason}`);
  }
}

function digestOf(cert: Buffer, key: Buffer): string {
  return createHash('sha256').update(cert).update('\0').update(key).digest('hex');
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}
