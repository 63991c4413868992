/**
 * Connecting and closing injected clients, whatever options they were made with
 * (lazyConnect or not, one Redis or a Cluster).
 */
import type { Cluster, Redis } from 'ioredis';
import { BrokerUnavailableError } from '../broker.js';

type Client = Redis | Cluster;

/** Resolves when the client is ready; connects a lazy client; bounded by `timeoutMs`. */
export function whenReady(client: Client, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new BrokerUnavailableError('Redis client was closed'));
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => done();
    const onEnd = (): void => done(new BrokerUnavailableError('Redis client gave up connecting'));
    const timer = setTimeout(
      () => done(new BrokerUnavailableError(`Redis not ready after ${timeoutMs} ms (status ${client.status})`)),
      timeoutMs,
    );
    client.on('ready', onReady);
    client.on('end', onEnd);
    // A lazy client connects on demand; the first attempt's failure is not final
    // (ioredis keeps retrying), so only `ready`, `end` or the timeout decide.
    if (client.status === 'wait') client.connect().catch(() => undefined);
  });
}

/** Closes gracefully (pending replies arrive) but never waits more than `graceMs`. */
export async function closeClient(client: Client, graceMs = 1_000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}
