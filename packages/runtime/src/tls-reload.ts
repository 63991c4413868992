/**
 * Certificate rotation: TLS_CERT_FILE and TLS_KEY_FILE are polled, and a changed pair
 * is handed to the server (setSecureContext) for new connections; existing ones keep
 * the session they negotiated. A bad new pair is logged once and the old one kept.
 *
 * Polling rather than fs.watch: cert-manager and Kubernetes Secret volumes replace the
 * files by swapping the `..data` symlink of the directory, which a watch on the file
 * (its old inode) never reports. Reading both files through their paths every
 * interval follows the symlinks to whatever they point at now.
 */
import type { Logger } from './logger.js';
import { describeCertificate, readTlsPair, tlsDigest, type TlsFiles, type TlsPair } from './tls.js';

/** Well inside the 10 s PROTOCOL.md section 12 allows, for two small reads. */
export const TLS_POLL_INTERVAL_MS = 2_000;

export interface TlsReloaderOptions {
  files: TlsFiles;
  /** The pair the server started with. */
  current: TlsPair;
  /** Installs a new pair for new connections. */
  apply: (pair: TlsPair) => void;
  logger: Logger;
  intervalMs?: number;
}

export class TlsReloader {
  private current: TlsPair;
  /** Digest of the last pair refused (or "unreadable"): refused once, logged once. */
  private refused: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TlsReloaderOptions) {
    this.current = options.current;
  }

  get pair(): TlsPair {
    return this.current;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? TLS_POLL_INTERVAL_MS);
    // Rotation alone never keeps a draining process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One poll: returns true when a new pair was installed. */
  check(): boolean {
    const { files, logger } = this.options;
    let digest: string;
    try {
      digest = tlsDigest(files);
    } catch (error) {
      // A file missing for a moment (mid-swap) or for good: keep serving with the old pair.
      this.refuse(`unreadable:${(error as Error).message}`, error);
      return false;
    }
    if (digest === this.current.digest || digest === this.refused) return false;
    let pair: TlsPair;
    try {
      pair = readTlsPair(files);
    } catch (error) {
      this.refuse(digest, error);
      return false;
    }
    try {
      this.options.apply(pair);
    } catch (error) {
      this.refuse(digest, error);
      return false;
    }
    this.current = pair;
    this.refused = undefined;
    logger.info({ ...files, ...describeCertificate(pair.certificate) }, 'tls certificate reloaded');
    return true;
  }

  private refuse(digest: string, error: unknown): void {
    if (digest === this.refused) return;
    this.refused = digest;
    this.options.logger.error(
      { ...this.options.files, reason: (error as Error).message, kept: describeCertificate(this.current.certificate).serial },
      'tls certificate not reloaded: keeping the previous one',
    );
  }
}
