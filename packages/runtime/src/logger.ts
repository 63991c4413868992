/**
 * The pino logger every service uses. Tokens never reach the logs: authorization
 * headers and token fields are redacted, and request URLs are logged without their
 * query string (which may carry `access_token`).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  node: string;
  /** Where logs go; stdout by default. Tests pass a stream. */
  destination?: NodeJS.WritableStream;
}

export const REDACTED_PATHS = [
  'token',
  'accessToken',
  'access_token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.token',
  '*.authorization',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { node: options.node },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** The path of a request URL without its query string, safe to log. */
export function safePath(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
