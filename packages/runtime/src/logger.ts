/**
 * The pino logger every service uses. Tokens never reach the logs: authorization
 * headers and token fields are redacted, as are the arguments of a failed Redis command
 * (AUTH's are the password), and request URLs are logged without their query string
 * (which may carry `access_token`).
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  node: string;
  /** Where logs go; stdout by default. Tests pass a stream. */
  destination?: NodeJS.WritableStream;
  /** Human-readable lines for a terminal (pino-pretty) instead of one JSON record per line. */
  pretty?: boolean;
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
  // A Redis reply error carries the command it answers: AUTH's arguments are the password.
  'err.command.args',
  'err.cause.command.args',
  'error.command.args',
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
    (options.pretty ? prettyStream(options.destination ?? process.stdout) : (options.destination ?? process.stdout)) as pino.DestinationStream,
  );
}

/**
 * pino-pretty in this process (not a transport thread), loaded only when asked for so
 * that services logging JSON never load it. Redaction has already happened: it formats
 * the records pino serialised.
 */
function prettyStream(destination: NodeJS.WritableStream): NodeJS.WritableStream {
  const build = createRequire(import.meta.url)('pino-pretty') as (options: PrettyOptions) => NodeJS.WritableStream;
  return build({ destination, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/** The path of a request URL without its query string, safe to log. */
export function safePath(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
