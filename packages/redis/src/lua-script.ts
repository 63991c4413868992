/**
 * Running Herald's Lua scripts, the one way every engine does it: EVALSHA (the body is
 * not resent on every call), falling back to EVAL when the node does not know the
 * script yet (first use, after a restart or SCRIPT FLUSH). NOSCRIPT means the script
 * did not run, so resending is safe. Works the same on one Redis and on a Cluster
 * (ioredis routes EVALSHA by its KEYS).
 *
 * Why not ioredis `defineCommand`: it sends every script with the same reply decoding,
 * while the broker needs Buffer replies for history (envelopes stay bytes) and control
 * over which call of a pipeline carries the body (queueScript); one runner serves both.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './clients.js';

export type ScriptArg = string | number | Buffer;

/** What the runner needs from a Redis or Cluster client. */
export interface ScriptClient {
  call(command: string, ...args: ScriptArg[]): Promise<unknown>;
  callBuffer(command: string, ...args: ScriptArg[]): Promise<unknown>;
}

/** A pipeline of either kind of client. */
type Pipeline = ReturnType<RedisClient['pipeline']>;

export class LuaScript {
  readonly sha: string;
  /** Clients this script was sent to with its body: EVALSHA is enough from then on. */
  private readonly sentTo = new WeakSet<object>();

  constructor(
    /** For errors and logs. */
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Whether a call on this client must carry the body, and from now on not: the first
   * call on a client goes as EVAL, so that it is not answered NOSCRIPT and resent after
   * commands sent behind it (a fire-and-forget call, then a read of what it wrote, would
   * see the read first). Calls behind it on the same connection find the script cached.
   * Only a node that lost its scripts (a restart, SCRIPT FLUSH, another node of a
   * Cluster) still answers NOSCRIPT, and the call is resent with its body.
   */
  needsBody(client: object): boolean {
    if (this.sentTo.has(client)) return false;
    this.sentTo.add(client);
    return true;
  }
}

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** One call: EVAL the first time on this client, else EVALSHA with the EVAL fallback. */
function runWith(method: 'call' | 'callBuffer') {
  return async (client: ScriptClient, script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> => {
    if (script.needsBody(client)) return client[method]('eval', script.source, keys.length, ...keys, ...args);
    try {
      return await client[method]('evalsha', script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client[method]('eval', script.source, keys.length, ...keys, ...args);
    }
  };
}

/** Runs the script; replies with strings (integers as numbers). */
export const runScript = runWith('call');

/** Runs the script; bulk replies arrive as Buffers. */
export const runScriptBuffer = runWith('callBuffer');

/**
 * Queues the script on a pipeline. The first command of a pipeline goes as EVAL so
 * that the node has the script cached before the EVALSHAs behind it run: a batch
 * never meets NOSCRIPT half-way, which would reorder what the calls write.
 */
export function queueScript(pipeline: Pipeline, script: LuaScript, keys: readonly string[], args: readonly ScriptArg[], first: boolean): void {
  pipeline.call(first ? 'eval' : 'evalsha', first ? script.source : script.sha, keys.length, ...keys, ...args);
}

/** KEYS and ARGV of one script call. */
export type ScriptCall = readonly [keys: readonly string[], args: readonly ScriptArg[]];

/**
 * Runs calls of one script on one shard, in order, in one round trip: a pipeline whose
 * first call is an EVAL (queueScript), or a single call alone as EVALSHA with its EVAL
 * fallback. A lone call cannot be reordered by a NOSCRIPT, so it need not carry the
 * script's body, which Redis would also hash on every request of a workload that
 * sends one call at a time.
 * Resolves like `pipeline.exec()`: per call [error, null] or [null, reply].
 */
export async function runScriptCalls(client: RedisClient, script: LuaScript, calls: readonly ScriptCall[]): Promise<Array<[Error | null, unknown]>> {
  if (calls.length === 1) {
    const [keys, args] = calls[0]!;
    try {
      return [[null, await runScript(client, script, keys, args)]];
    } catch (error) {
      return [[error instanceof Error ? error : new Error(String(error)), null]];
    }
  }
  const pipeline = client.pipeline();
  calls.forEach(([keys, args], position) => queueScript(pipeline, script, keys, args, position === 0));
  return (await pipeline.exec()) ?? [];
}
