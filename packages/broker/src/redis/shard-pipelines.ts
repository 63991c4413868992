/**
 * Commands of many keys sent as one pipeline per shard: a batch then costs one round
 * trip per node it touches, not one per command. A single Redis is one shard. On a
 * cluster, ioredis accepts a pipeline only when every key in it belongs to one node
 * group (master and replicas) of its own slot table, and passes a MOVED or ASK inside
 * a pipeline back instead of following it; so commands are grouped by that table, and
 * a command refused in its pipeline is sent again alone (cluster-retry.ts), which
 * ioredis follows, within the operation's deadline.
 */
import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import { isRetryable, retryOnCluster } from './cluster-retry.js';
import { withDeadline } from './errors.js';
import type { ScriptArg } from './scripts.js';

/**
 * The node group of a slot in the client's own table, the grouping its pipelines
 * accept; before the slot map is known, the slot itself (a pipeline per slot is always
 * valid).
 */
function nodeOf(client: Cluster, slot: number): string {
  const groupsBySlot = (client as unknown as { _groupsBySlot?: Array<number | undefined> })._groupsBySlot;
  const group = groupsBySlot?.[slot];
  if (group !== undefined) return `group:${group}`;
  return client.slots[slot]?.join(';') ?? `slot:${slot}`;
}

/**
 * Indices of `slots` grouped per shard, each group in index order: one group for a
 * single Redis, one per node group on a cluster.
 */
export function groupByShard(client: Redis | Cluster, slots: readonly number[]): number[][] {
  if (slots.length === 0) return [];
  if (!(client instanceof Cluster)) return [slots.map((_, i) => i)];
  const groups = new Map<string, number[]>();
  slots.forEach((slot, i) => {
    const node = nodeOf(client, slot);
    const group = groups.get(node);
    if (group) group.push(i);
    else groups.set(node, [i]);
  });
  return [...groups.values()];
}

/** One command of a shard batch: the slot of its keys and the command with its arguments. */
export interface ShardCommand {
  readonly slot: number;
  readonly command: string;
  readonly args: readonly ScriptArg[];
}

export interface ShardBatchOptions {
  /** Epoch ms: nothing is sent again after it. */
  readonly deadline: number;
  /**
   * Whether running a command twice is harmless (SET NX, SET XX): then a command whose
   * connection was lost, which may have run, is sent again too.
   */
  readonly idempotent: boolean;
  /** Names the operation in errors. */
  readonly what: string;
}

/**
 * Runs the commands as one pipeline per shard, concurrently. On a cluster, every
 * command that failed in a way a retry may fix is sent again alone until the deadline.
 * Returns per command its reply, or the Error it finally failed with; never rejects.
 */
export async function runPerShard(client: Redis | Cluster, commands: readonly ShardCommand[], options: ShardBatchOptions): Promise<unknown[]> {
  const replies = new Array<unknown>(commands.length);
  const failed: number[] = [];
  await Promise.all(
    groupByShard(client, commands.map((command) => command.slot)).map(async (indices) => {
      let results: Array<[Error | null, unknown]> | null;
      try {
        results = await withDeadline(send(client, indices.map((index) => commands[index]!)), Math.max(1, options.deadline - Date.now()), options.what);
      } catch (error) {
        for (const index of indices) replies[index] = asError(error);
        failed.push(...indices);
        return;
      }
      indices.forEach((index, position) => {
        const result = results?.[position];
        if (!result) replies[index] = new Error(`Redis ${options.what}: no reply in the pipeline`);
        else if (result[0]) replies[index] = result[0];
        else {
          replies[index] = result[1];
          return;
        }
        failed.push(index);
      });
    }),
  );
  if (client instanceof Cluster) {
    await Promise.all(
      failed
        .filter((index) => Date.now() < options.deadline && isRetryable(replies[index], options.idempotent))
        .map(async (index) => {
          const { command, args } = commands[index]!;
          try {
            replies[index] = await retryOnCluster(client, () => client.call(command, ...args), options.deadline, options.idempotent, options.what);
          } catch (error) {
            replies[index] = asError(error);
          }
        }),
    );
  }
  return replies;
}

/** One round trip: a pipeline, or a lone command as it is (a pipeline costs more to build). */
async function send(client: Redis | Cluster, commands: readonly ShardCommand[]): Promise<Array<[Error | null, unknown]> | null> {
  if (commands.length === 1) {
    try {
      return [[null, await client.call(commands[0]!.command, ...commands[0]!.args)]];
    } catch (error) {
      return [[asError(error), null]];
    }
  }
  const pipeline: ChainableCommander = client.pipeline();
  for (const { command, args } of commands) pipeline.call(command, ...args);
  return pipeline.exec();
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
