/**
 * A channel's first events published during a broker blip: the edge's Redis connections
 * are killed while Redis takes no new connection (maxclients 1), so the edge cannot come
 * back while ingest, on the connections it has open, keeps publishing; then restored.
 *
 * - A subscribed to a brand-new channel before the blip: the channel's first events come
 *   during it. The edge knew the channel had no position, so history from the origin
 *   holds every event it missed: A gets all of them, no continuity-lost.
 * - B subscribes to another new channel *during* the blip (its reply waits for the
 *   broker; the edge could not read the channel's position): the events published after
 *   its subscribe reach it once the link is back, no continuity-lost.
 * Never silence, never a duplicate: the events after the restore arrive exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { expectOrderedOnce, nodeIdOf, readyStatus, startCluster, stopAllProcesses, waitForReadiness, type Cluster } from '../support/cluster.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

let redis: RedisServer;
let cluster: Cluster;
let admin: Redis;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cluster = await startCluster({ redis, label: 'blip', edges: 1, ingests: 1 });
  admin = new Redis(redis.url);
  admin.on('error', () => undefined);
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  admin?.disconnect();
  await stopAllProcesses();
  await redis?.stop();
});

/** Kills every Redis connection of the edge (they are named after its node id) and lets no new one in. */
async function cutEdge(nodeId: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => / name=(\S+)/.exec(line)?.[1]?.startsWith(nodeId) === true)
    .map((line) => /(?:^| )id=(\d+)/.exec(line)![1]!);
  const step = admin.multi().config('SET', 'maxclients', '1');
  for (const id of ids) step.client('KILL', 'ID', id);
  await step.exec();
  return ids.length;
}

const merchantOf = (label: string) => `m_${label}_${process.pid}_${Date.now().toString(36)}`;

async function publishAll(merchant: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const event = paymentCreated(merchant);
    const answer = await publish(cluster.ingests[0]!.url, event);
    expect(answer.status).toBe(202);
    ids.push(event.id as string);
  }
  return ids;
}

it('first events of a channel published while the edge is cut from Redis: delivered on recovery, no continuity-lost', async () => {
  const edge = cluster.edges[0]!;
  const token = clientToken({ sub: 'blip', channels: ['merchant:*'] });
  const early = merchantOf('early');
  const late = merchantOf('late');
  const a = await TestClient.open(edge.wsUrl, { token });
  const b = await TestClient.open(edge.wsUrl, { token });
  clients.push(a, b);
  expect((await a.subscribe(`merchant:${early}`)).type).toBe('subscribed');

  // The blip: the edge's connections die and cannot come back.
  expect(await cutEdge(nodeIdOf(edge))).toBeGreaterThan(0);
  await waitForReadiness([edge], 503);

  // B subscribes now; the pong after it says the edge has taken the subscribe in.
  const subscribed = b.next((frame) => frame.type === 'subscribed' && frame.data?.channel === `merchant:${late}`, 30_000);
  b.send({ type: 'subscribe', id: 'late', data: { channel: `merchant:${late}` } });
  await b.sync();

  const earlyIds = await publishAll(early, 3);
  const lateIds = await publishAll(late, 3);

  // Still cut off after all of it: the events were published during the blip.
  expect(await readyStatus(edge)).toBe(503);
  await admin.config('SET', 'maxclients', '10000');
  await waitForReadiness([edge], 200, 30_000);
  await subscribed;

  earlyIds.push(...(await publishAll(early, 1)));
  lateIds.push(...(await publishAll(late, 1)));
  const earlyEvents = await a.waitForEvents(earlyIds.length, `merchant:${early}`, 15_000);
  const lateEvents = await b.waitForEvents(lateIds.length, `merchant:${late}`, 15_000);
  await Promise.all([a.sync(), b.sync()]);

  expect(earlyEvents.map((event) => event.id)).toEqual(earlyIds);
  expect(lateEvents.map((event) => event.id)).toEqual(lateIds);
  expectOrderedOnce(a.events(`merchant:${early}`));
  expectOrderedOnce(b.events(`merchant:${late}`));
  expect(a.events(`merchant:${early}`)).toHaveLength(earlyIds.length);
  expect(b.events(`merchant:${late}`)).toHaveLength(lateIds.length);
  expect([...a.errors(), ...b.errors()]).toEqual([]);
}, 90_000);
