/**
 * Shutdown sequencing: on SIGTERM or SIGINT run the steps in order, then exit 0; a
 * watchdog exits 1 if they have not finished before the timeout.
 */
import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  timeoutMs: number;
  /** Runs once; its failure is logged and the process still exits. */
  run: (signal: string) => Promise<void>;
  exit?: (code: number) => void;
}

export function installShutdown(options: ShutdownOptions): () => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let started: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    if (started) return started;
    options.logger.info({ signal, timeoutMs: options.timeoutMs }, 'shutting down');
    const watchdog = setTimeout(() => {
      options.logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out; exiting');
      exit(1);
    }, options.timeoutMs);
    watchdog.unref();
    started = options
      .run(signal)
      .then(
        () => {
          options.logger.info('shutdown complete');
          clearTimeout(watchdog);
          options.logger.flush?.();
          exit(0);
        },
        (error: unknown) => {
          options.logger.error({ err: error }, 'shutdown failed');
          clearTimeout(watchdog);
          exit(1);
        },
      );
    return started;
  };
  // `on`, not `once`: a second signal during the drain must not kill the process.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return () => shutdown('manual');
}
