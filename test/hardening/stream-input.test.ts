/**
 * Input hardening on the Redis stream path: an entry whose event nests too deep, holds
 * a number that would not survive, or names a key twice goes to the dead-letter stream
 * with the reason, like an invalid one; a good entry beside them is published.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, stopAllProcesses, waitUntil, type Cluster } from '../support/cluster.js';
import { paymentCreated } from '../support/ingest.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

let redis: RedisServer;
let admin: Redis;
let cluster: Cluster;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
  cluster = await startCluster({ redis, label: 'stream-input', edges: 1 });
});

afterAll(async () => {
  admin?.disconnect();
  await stopAllProcesses();
  await redis?.stop();
});

it('dead-letters entries over the input limits with the reason and publishes the good one', async () => {
  const stream = `${cluster.prefix}:ingest`;
  const dead = `${cluster.prefix}:ingest:dead`;
  const merchant = `m_si_${process.pid}_${Date.now().toString(36)}`;
  const channel = `merchant:${merchant}`;
  const client = await TestClient.open(cluster.edges[0]!.wsUrl, { token: clientToken({ sub: 'stream', channels: [channel] }) });
  await client.subscribe(channel);
  await cluster.add('ingest');

  const good = paymentCreated(merchant);
  const text = (event: Record<string, unknown>) => JSON.stringify(event);
  const deep = text(paymentCreated(merchant)).replace('"data":{', `"data":{"x":${'['.repeat(5_000)}${']'.repeat(5_000)},`);
  const huge = text(paymentCreated(merchant)).replace(/"amount":\d+/, '"amount":1e400');
  const twice = text(paymentCreated(merchant)).replace('"currency":"EUR"', '"currency":"EUR","currency":"USD"');
  for (const body of [deep, huge, twice, text(good)]) await admin.xadd(stream, '*', 'event', body);

  await client.waitForEvents(1, channel);
  expect(client.events(channel).map((frame) => frame.id)).toEqual([good.id]);
  await waitUntil(async () => (await admin.xlen(dead)) === 3, { what: 'three dead letters' });
  const entries = await admin.xrange(dead, '-', '+');
  const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1] ?? '';
  const found = entries.map(([, fields]) => [field(fields, 'problem'), field(fields, 'reason')]);
  expect(found[0]![0]).toBe('/problems/invalid-event');
  expect(found[0]![1]).toMatch(/^data\.x(\[0\])+ nests deeper than 32 levels$/);
  expect(found[1]).toEqual(['/problems/validation-failed', expect.stringMatching(/^data\.amount is a number too large/)]);
  expect(found[2]).toEqual(['/problems/validation-failed', 'data.currency is given more than once']);
  await client.close();
});
