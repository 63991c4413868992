/**
 * Argument parsing for the operator commands: node:util's parseArgs, strict, with
 * `-h`/`--help` on every command. A parse error is a usage error (exit 64: one line, then the usage).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { commandUsage, usageError } from './help.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: string, args: string[], options: Options, allowPositionals = false): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true }) as ParsedArgs;
  } catch (error) {
    usageError(command, (error as Error).message);
  }
  if (parsed.values.help === true) {
    process.stdout.write(commandUsage(command));
    process.exit(0);
  }
  return parsed;
}

/**
 * A URL setting of a command (INGEST_URL, EDGE_URL): parsed, its scheme one of
 * `protocols`, else a usage error saying `expected`. The value is returned as given.
 */
export function urlSetting(command: string, name: string, value: string, protocols: readonly string[], expected: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !protocols.includes(parsed.protocol)) usageError(command, `${name} must be ${expected} URL (got ${JSON.stringify(value)})`);
  return value;
}
