/**
 * Decoding of client commands: JSON text in, a typed command or a problem out.
 * Never throws; every failure names the problem the session must answer with.
 */
import { isValidChannel } from './channels.js';
import { parseJsonInput, type JsonInputViolation } from './json-input.js';
import { MAX_COMMAND_ID_LENGTH, type Command } from './frames.js';
import { Problem, type ProblemDefinition } from './problems.js';
import { isValidSeq } from './seq.js';

export type DecodeResult =
  | { ok: true; command: Command }
  | { ok: false; problem: ProblemDefinition; message: string; replyTo?: string };

function fail(problem: ProblemDefinition, message: string, replyTo?: string): DecodeResult {
  return { ok: false, problem, message, replyTo };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The default nesting limit of a command frame (INGEST_MAX_DEPTH). */
export const DEFAULT_MAX_COMMAND_DEPTH = 32;

/**
 * `maxDepth` bounds the frame's nesting, counted from the frame itself; the frame is
 * also refused when a key appears twice in one object or a number would not survive
 * (the input rules of json-input.ts, the same as the ingest's).
 */
export function decodeCommand(text: string, maxDepth = DEFAULT_MAX_COMMAND_DEPTH): DecodeResult {
  let parsed: unknown;
  let violations: readonly JsonInputViolation[];
  try {
    ({ value: parsed, violations } = parseJsonInput(text, { maxDepth, maxViolations: 1 }));
  } catch {
    return fail(Problem.invalidMessage, 'Message is not valid JSON');
  }
  if (!isPlainObject(parsed)) return fail(Problem.invalidMessage, 'Message must be a JSON object');

  const id = checkCommandId(parsed.id);
  if (!id.ok) return fail(id.problem, id.message);
  const replyTo = id.id;
  const violation = violations[0];
  if (violation !== undefined) return fail(Problem.invalidMessage, `${violation.path === '' ? 'Message' : `"${violation.path}"`} ${violation.message}`, replyTo);
  return commandFromParts(parsed.type, replyTo, parsed.data);
}

/**
 * The command `id` rule of every wire format: absent, or a non-empty string of at most
 * MAX_COMMAND_ID_LENGTH characters. A failure carries no replyTo (the id is unusable).
 */
export function checkCommandId(id: unknown): { ok: true; id: string | undefined } | { ok: false; problem: ProblemDefinition; message: string } {
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_COMMAND_ID_LENGTH)) {
    return { ok: false, problem: Problem.invalidMessage, message: `"id" must be a non-empty string of at most ${MAX_COMMAND_ID_LENGTH} characters` };
  }
  return { ok: true, id };
}

/**
 * The checks shared by every wire format, on a command in its JSON shape: `type`, the
 * checked `id` (as replyTo) and `data`. The binary protocol builds the same shape from
 * a ClientCommand, so both formats answer alike (the same problems, the same messages).
 */
export function commandFromParts(type: unknown, replyTo: string | undefined, data: unknown): DecodeResult {
  if (typeof type !== 'string') return fail(Problem.invalidMessage, '"type" must be a string', replyTo);

  switch (type) {
    case 'ping':
      return { ok: true, command: replyTo === undefined ? { type } : { type, id: replyTo } };
    case 'refresh': {
      if (!isPlainObject(data)) return fail(Problem.invalidMessage, '"data" must be an object with a "token"', replyTo);
      const token = data.token;
      // Whether the token is any good (an empty one is not) is the edge's verdict,
      // `unauthorized`, as for any bad token; only a non-string is a malformed command.
      if (typeof token !== 'string') return fail(Problem.invalidMessage, '"data.token" must be a string', replyTo);
      return { ok: true, command: { type, id: replyTo, data: { token } } };
    }
    case 'subscribe':
    case 'unsubscribe': {
      if (!isPlainObject(data)) return fail(Problem.invalidMessage, `"data" must be an object with a "channel"`, replyTo);
      const channel = data.channel;
      if (typeof channel !== 'string') return fail(Problem.invalidMessage, '"data.channel" must be a string', replyTo);
      if (!isValidChannel(channel)) {
        return fail(Problem.invalidChannel, `Invalid channel name "${truncate(channel)}"`, replyTo);
      }
      if (type === 'unsubscribe') return { ok: true, command: { type, id: replyTo, data: { channel } } };
      const since = data.since;
      if (since !== undefined && !isValidSeq(since)) {
        return fail(Problem.invalidMessage, '"data.since" must be a seq received from this server', replyTo);
      }
      return { ok: true, command: { type, id: replyTo, data: since === undefined ? { channel } : { channel, since } } };
    }
    default:
      return fail(Problem.unknownType, `Unknown command type "${truncate(type)}"`, replyTo);
  }
}

function truncate(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}...` : value;
}
