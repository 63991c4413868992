/**
 * The Redis revocations of `herald edge` and `herald ingest` (PROTOCOL.md section 11):
 * a `commands` client for revoking and checking, and, on an edge, a `subscriber` client
 * of its own for the announcements (kept apart from the broker's, whose resubscription
 * owns everything on its connection).
 */
import { RedisRevocations } from '@herald/admission/redis';
import { whenReady, type ClientRole, type RedisClient } from '@herald/redis';
import type { Logger, Service } from '@herald/runtime';

export async function createRedisRevocations(
  client: (use: string, role: ClientRole) => RedisClient,
  keyPrefix: string,
  services: readonly Service[],
  logger: Logger,
): Promise<RedisRevocations> {
  const commands = client('revocations', 'commands');
  // A `commands` client queues nothing: it must be connecting before the first check.
  // Redis not there yet: checks fail (and let verified tokens through) until it is.
  await whenReady(commands, 5_000).catch(() => undefined);
  return new RedisRevocations({
    client: commands,
    ...(services.includes('edge') ? { subscriber: client('revocations-sub', 'subscriber') } : {}),
    keyPrefix,
    logger: logger.child({ component: 'revocations' }),
  });
}
