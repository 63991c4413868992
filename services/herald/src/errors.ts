/** Start-up failures that end the process with one line naming what is wrong. */
import { ConfigError } from '@herald/runtime';

/** EX_CONFIG from sysexits.h: a configuration error. */
export const EXIT_CONFIG = 78;

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Prints one line for a start-up failure and exits; rethrows anything unexpected. */
export function exitOnStartupError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`herald: invalid configuration: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (error instanceof StartupError) {
    process.stderr.write(`herald: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
