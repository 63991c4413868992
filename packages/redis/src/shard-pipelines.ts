/**
 * Commands of many keys sent as one pipeline per shard: a batch then costs one round
 * trip per node it touches, not one per command. A single Redis is one shard. On a
 * cluster, ioredis accepts a pipeline only when every key in it belongs to one node
 * group (master and replicas) of its own slot table (`RedisTopology.groupByShard`), and
 * passes a MOVED or ASK inside a pipeline back instead of following it; so a command
 * refused in its pipeline is sent again alone (`RedisTopology.send`), which ioredis
 * follows, within the operation's deadline.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './clients.js';
import { withDeadline } from './deadline.js';
import type { RedisTopology, ShardBatchOptions, ShardCommand } from './topology.js';

/**
 * Runs the commands as one pipeline per shard, concurrently. Every command that failed in
 * a way a retry may fix (on a cluster: refused during a topology change, or lost with
 * its connection when idempotent) is sent again alone, through `topology.send`, until
 * the deadline. Returns per command its reply, or the Error it finally failed with;
 * never rejects.
 */
export async function runPerShard(topology: RedisTopology, commands: readonly ShardCommand[], options: ShardBatchOptions): Promise<unknown[]> {
  const { client } = topology;
  const replies = new Array<unknown>(commands.length);
  const failed: number[] = [];
  await Promise.all(
    topology.groupByShard(commands.map((command) => command.slot)).map(async (indices) => {
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
  await Promise.all(
    failed
      .filter((index) => Date.now() < options.deadline && topology.isRetryable(replies[index], options.idempotent))
      .map(async (index) => {
        const { command, args } = commands[index]!;
        try {
          replies[index] = await topology.send(() => client.call(command, ...args), options);
        } catch (error) {
          replies[index] = asError(error);
        }
      }),
  );
  return replies;
}

/** One round trip: a pipeline, or a lone command as it is (a pipeline costs more to build). */
async function send(client: RedisClient, commands: readonly ShardCommand[]): Promise<Array<[Error | null, unknown]> | null> {
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
