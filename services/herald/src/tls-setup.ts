/**
 * Which certificate a process serves (PROTOCOL.md section 12): TLS_CERT_FILE and
 * TLS_KEY_FILE, or with `herald start` and TLS=self-signed one made at start. The pair
 * is read and checked before anything connects, so a bad file ends the start with one
 * line naming its variable (exit 78); afterwards the files are watched for rotation.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  TlsReloader,
  describeCertificate,
  readTlsPair,
  type HeraldConfig,
  type Logger,
  type TlsFiles,
  type TlsPair,
} from '@herald/runtime';
import type { HttpsServer } from './http-server.js';
import { makeSelfSignedCertificate } from './self-signed.js';

export interface ServedTls {
  files: TlsFiles;
  pair: TlsPair;
  /** Made by this process for `herald start`: nothing rotates it. */
  selfSigned: boolean;
}

export async function prepareTls(config: HeraldConfig, logger: Logger): Promise<ServedTls | undefined> {
  let files: TlsFiles;
  const selfSigned = config.TLS === 'self-signed';
  if (selfSigned) files = await makeSelfSignedCertificate();
  else if (config.TLS_CERT_FILE !== undefined && config.TLS_KEY_FILE !== undefined) files = { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE };
  else return undefined;
  const pair = readTlsPair(files);
  logger.info({ ...files, ...describeCertificate(pair.certificate), selfSigned }, 'tls certificate loaded');
  return { files, pair, selfSigned };
}

/** Polls the files and installs a changed pair on `server` for new connections. */
export function watchTls(server: HttpsServer, tls: ServedTls, logger: Logger): TlsReloader | undefined {
  if (tls.selfSigned) return undefined;
  const reloader = new TlsReloader({
    files: tls.files,
    current: tls.pair,
    logger,
    apply: (pair) => server.setSecureContext({ cert: pair.cert, key: pair.key }),
  });
  reloader.start();
  return reloader;
}

/** Removes a self-signed certificate's directory on shutdown: the next start makes another. */
export function discardTls(tls: ServedTls | undefined): void {
  if (tls?.selfSigned) rmSync(dirname(tls.files.certFile), { recursive: true, force: true });
}
