/**
 * Redis outages under a steady stream of events, two edges and one ingest:
 *
 * - the edges' connections are killed (CLIENT KILL) while Redis and its data stay:
 *   every event ingest accepted is delivered (the hub fills the gap from history), with
 *   no continuity-lost and no duplicate;
 * - Redis is stopped and restarted on the same port without persistence (its data is
 *   lost): ingest answers 503 broker-unavailable while it is down (never 202 and lost),
 *   /readyz is 503 while down and 200 after, and each subscriber ends up with every
 *   event accepted with 202 on each channel, or an explicit continuity-lost for that
 *   channel after which it again gets every event accepted.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectOrderedOnce,
  readyStatus,
  startCluster,
  stopAllProcesses,
  waitForEventId,
  waitForReadiness,
  waitUntil,
  type Cluster,
} from '../support/cluster.js';
import { httpGet, mediaTypeOf, metricValue, waitForMetric } from '../support/http.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { redisCli, startRedis, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';

let redis: RedisServer;
let cluster: Cluster;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cluster = await startCluster({
    redis,
    label: 'outage',
    edges: 2,
    ingests: 1,
    // Renewals every second: admission resyncs (and readiness returns) soon after Redis does.
    edgeEnv: { ADMISSION_LEASE_PERIOD: '3s', MAX_CONNECTIONS: '1000' },
  });
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await stopAllProcesses();
  await redis?.stop();
});

interface Attempt {
  id: string;
  status: number;
  problem?: string;
  startedAt: number;
  endedAt: number;
}

/**
 * A producer publishing one event after the other to one merchant through ingest, as
 * long as it runs. On anything but 202 it pauses briefly (Retry-After says 1 s; the test
 * wants to see the outage), then either retries the same event (an idempotent producer)
 * or moves on to a new one.
 */
class Producer {
  readonly attempts: Attempt[] = [];
  private running = true;
  private readonly done: Promise<void>;
  private listeners = new Set<() => void>();

  constructor(
    readonly merchant: string,
    private readonly ingestUrl: string,
    private readonly retrySameId: boolean,
  ) {
    this.done = this.loop();
  }

  get channel(): string {
    return `merchant:${this.merchant}`;
  }

  private async loop(): Promise<void> {
    let event = paymentCreated(this.merchant);
    while (this.running) {
      const startedAt = Date.now();
      let status = 0;
      let problem: string | undefined;
      try {
        const answer = await publish(this.ingestUrl, event);
        status = answer.status;
        if (status !== 202) {
          problem = answer.body?.type;
          expect(mediaTypeOf(answer.contentType)).toBe('application/problem+json');
          expect(answer.headers.get('retry-after')).toBe('1');
        }
      } catch {
        status = 0;
      }
      this.attempts.push({ id: event.id as string, status, startedAt, endedAt: Date.now(), ...(problem ? { problem } : {}) });
      for (const listener of this.listeners) listener();
      if (status === 202 || !this.retrySameId) event = paymentCreated(this.merchant);
      if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves once `predicate` holds for the attempts so far (checked after each attempt). */
  until(predicate: (attempts: readonly Attempt[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (predicate(this.attempts)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`${this.merchant}: ${what} not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = () => {
        if (!predicate(this.attempts)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
    });
  }

  accepted(): Attempt[] {
    return this.attempts.filter((attempt) => attempt.status === 202);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

const acceptedSince = (time: number) => (attempts: readonly Attempt[]) => attempts.filter((a) => a.status === 202 && a.startedAt > time).length;

let merchantCounter = 0;
const freshMerchant = (label: string) => `m_${label}_${process.pid}_${Date.now().toString(36)}_${++merchantCounter}`;

/** One client per edge, subscribed to `channels`; records when continuity-lost frames arrive. */
async function subscribers(channels: readonly string[]): Promise<Array<{ client: TestClient; lostAt: Map<string, number> }>> {
  return Promise.all(
    cluster.edges.map(async (edge) => {
      const client = await TestClient.open(edge.wsUrl, { token: clientToken({ sub: 'outage', channels: ['merchant:*'] }) });
      clients.push(client);
      const lostAt = new Map<string, number>();
      client.socket.on('message', () => {
        const frame = client.frames.at(-1);
        if (frame?.type === 'error' && frame.error?.type === '/problems/continuity-lost') lostAt.set(frame.channel, Date.now());
      });
      for (const channel of channels) expect((await client.subscribe(channel)).type).toBe('subscribed');
      return { client, lostAt };
    }),
  );
}

const eventsOf = (client: TestClient, channel: string): Frame[] => client.events(channel);
const lostFrames = (client: TestClient, channel: string) => client.errors('/problems/continuity-lost').filter((frame) => frame.channel === channel);

describe('edge connections killed, Redis and its data intact', () => {
  it('delivers every accepted event: the gap is filled from history, no continuity-lost, no duplicate', async () => {
    const merchants = [freshMerchant('kill'), freshMerchant('kill')];
    // Two channels on which the nodes deliver nothing before the outage: one with an
    // event in its history already, one brand new.
    const quiet = freshMerchant('quiet');
    const quietChannel = `merchant:${quiet}`;
    expect((await publish(cluster.ingests[0]!.url, paymentCreated(quiet))).status).toBe(202);
    const fresh = freshMerchant('fresh');
    const freshChannel = `merchant:${fresh}`;
    const subs = await subscribers([...merchants.map((m) => `merchant:${m}`), quietChannel, freshChannel]);
    const producers = merchants.map((merchant) => new Producer(merchant, cluster.ingests[0]!.url, true));
    await Promise.all(producers.map((producer) => producer.until((a) => a.filter((x) => x.status === 202).length >= 10, '10 accepted')));

    // The edges' subscriber connections die, and cannot come back while maxclients is
    // down (connections already open are kept); events keep being accepted meanwhile.
    // The quiet channels, on which nothing was delivered yet, get events now.
    const admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    const pubsubKilledAt = Date.now();
    await admin.multi().config('SET', 'maxclients', '1').client('KILL', 'TYPE', 'pubsub').exec();
    const quietIds: string[] = [];
    const freshIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      for (const [merchant, ids] of [[quiet, quietIds], [fresh, freshIds]] as const) {
        const event = paymentCreated(merchant);
        expect((await publish(cluster.ingests[0]!.url, event)).status).toBe(202);
        ids.push(event.id as string);
      }
    }
    await Promise.all(producers.map((producer) => producer.until((a) => acceptedSince(pubsubKilledAt)(a) >= 5, '5 accepted after the pub/sub kill')));
    // All of it while the edges were cut off.
    expect(await Promise.all(cluster.edges.map(readyStatus))).toEqual([503, 503]);
    await admin.config('SET', 'maxclients', '10000');
    admin.disconnect();
    await waitForReadiness(cluster.edges, 200);

    // Every command connection dies too (edges, ingest, admission): ingest may answer 503
    // for a moment; the producers retry the same id.
    const normalKilledAt = Date.now();
    await redisCli(redis, 'CLIENT', 'KILL', 'TYPE', 'normal');
    await Promise.all(producers.map((producer) => producer.until((a) => acceptedSince(normalKilledAt)(a) >= 10, '10 accepted after the normal kill')));
    await waitForReadiness([...cluster.edges, ...cluster.ingests], 200);
    await Promise.all(producers.map((producer) => producer.stop()));

    for (const { client } of subs) {
      for (const producer of producers) {
        const accepted = producer.accepted().map((a) => a.id);
        expect(new Set(accepted).size).toBe(accepted.length);
        await waitForEventId(client, producer.channel, accepted.at(-1)!, 15_000);
        const events = eventsOf(client, producer.channel);
        expectOrderedOnce(events);
        // Exactly the accepted events, in the order they were accepted (one producer, one at a time).
        expect(events.map((event) => event.id)).toEqual(accepted);
        expect(lostFrames(client, producer.channel)).toEqual([]);
      }
      await waitForEventId(client, quietChannel, quietIds.at(-1)!, 15_000);
      expect(eventsOf(client, quietChannel).map((event) => event.id)).toEqual(quietIds);
      // A brand-new channel's first events during the outage: the node saw it with no
      // position, and history from the origin holds its whole log: all of them.
      await waitForEventId(client, freshChannel, freshIds.at(-1)!, 15_000);
      await client.sync();
      expect(eventsOf(client, freshChannel).map((event) => event.id)).toEqual(freshIds);
      expect(client.errors()).toEqual([]);
    }
  }, 120_000);
});

describe('Redis stopped and restarted without persistence', () => {
  it('answers 503 while down, and every subscriber gets every accepted event or continuity-lost for the channel', async () => {
    const merchants = [freshMerchant('restart'), freshMerchant('restart')];
    const quiet = freshMerchant('quiet');
    const quietChannel = `merchant:${quiet}`;
    const subs = await subscribers([...merchants.map((m) => `merchant:${m}`), quietChannel]);
    const producers = merchants.map((merchant) => new Producer(merchant, cluster.ingests[0]!.url, false));
    await Promise.all(producers.map((producer) => producer.until((a) => a.filter((x) => x.status === 202).length >= 10, '10 accepted')));
    const everyNode = [...cluster.edges, ...cluster.ingests];

    const stopping = Date.now();
    await redis.stop();
    const stoppedAt = Date.now();
    // While down: 503 broker-unavailable for the producers, 503 on every /readyz.
    await Promise.all(producers.map((producer) => producer.until((a) => a.some((x) => x.startedAt > stoppedAt && x.status === 503), 'a 503 while down')));
    await waitForReadiness(everyNode, 503);
    const quietDown = await publish(cluster.ingests[0]!.url, paymentCreated(quiet));
    expect(quietDown.status).toBe(503);
    expect(quietDown.body).toMatchObject({ type: '/problems/broker-unavailable', status: 503 });
    // The edges' admission notices at its next renewal and admits alone meanwhile
    // (ADMISSION_FALLBACK_PER_NODE defaults to MAX_CONNECTIONS), saying so.
    const edge = cluster.edges[0]!;
    await waitForMetric(edge.url, 'herald_admission_degraded', {}, (value) => value === 1, 5_000);
    const readiness = await httpGet(`${edge.url}/readyz`);
    expect(readiness.status).toBe(503);
    expect(readiness.body.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^broker /), expect.stringMatching(/^admission store unreachable/)]));
    const alone = await Promise.all([0, 1].map(() => TestClient.open(edge.wsUrl, { token: clientToken({ sub: 'alone' }) })));
    clients.push(...alone);
    await alone[1]!.close();

    const restarting = Date.now();
    await redis.restart();
    // Nothing was accepted while Redis was gone: 503 broker-unavailable, never 202.
    const whileDown = producers.flatMap((p) => p.attempts).filter((a) => a.startedAt > stoppedAt && a.endedAt < restarting);
    expect(whileDown.length).toBeGreaterThan(0);
    expect(whileDown.filter((a) => a.status !== 503 || a.problem !== '/problems/broker-unavailable')).toEqual([]);
    // The quiet channel's first events, as soon as ingest takes them (maybe before the edges are back).
    await waitForReadiness(cluster.ingests, 200);
    const quietAttempts: Attempt[] = [];
    const publishQuiet = async () => {
      const event = paymentCreated(quiet);
      const startedAt = Date.now();
      const answer = await publish(cluster.ingests[0]!.url, event);
      expect(answer.status).toBe(202);
      quietAttempts.push({ id: event.id as string, status: answer.status, startedAt, endedAt: Date.now() });
    };
    for (let i = 0; i < 3; i++) await publishQuiet();
    await waitForReadiness(everyNode, 200);
    expect(await metricValue(edge.url, 'herald_admission_degraded')).toBe(0);
    // Redis lost the counter: each edge wrote its exact share back, connections admitted
    // alone included, those closed while down excluded.
    const admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    const open = () => clients.filter((client) => client.socket.readyState === client.socket.OPEN).length;
    await waitUntil(async () => Number(await admin.get(`{${cluster.prefix}:admission}:total`)) === open(), { timeoutMs: 5_000, what: `the counter at ${open()}` });
    admin.disconnect();
    // The last events of every channel are published once every node is whole again:
    // whatever happened before, they must arrive.
    const readyAt = Date.now();
    await publishQuiet();
    // The stream consumer lost its group with the data: it recreates it and goes on.
    const streamed = paymentCreated(quiet);
    const streamer = new Redis(redis.url);
    streamer.on('error', () => undefined);
    await streamer.xadd(`${cluster.prefix}:ingest`, '*', 'event', JSON.stringify(streamed));
    streamer.disconnect();
    quietAttempts.push({ id: streamed.id as string, status: 202, startedAt: Date.now(), endedAt: Date.now() });
    await Promise.all(producers.map((producer) => producer.until((a) => acceptedSince(readyAt)(a) >= 10, '10 accepted after readiness')));
    await Promise.all(producers.map((producer) => producer.stop()));
    const published = new Set(producers.flatMap((producer) => producer.attempts.map((a) => a.id)));

    for (const { client, lostAt } of subs) {
      const channels = [
        ...producers.map((producer) => ({ channel: producer.channel, attempts: producer.attempts })),
        { channel: quietChannel, attempts: quietAttempts },
      ];
      for (const { channel, attempts } of channels) {
        const accepted = attempts.filter((a) => a.status === 202);
        await waitForEventId(client, channel, accepted.at(-1)!.id, 15_000);
        await client.sync();
        const events = eventsOf(client, channel);
        expectOrderedOnce(events);
        const received = new Set(events.map((event) => event.id as string));
        const lost = lostFrames(client, channel);
        if (lost.length === 0) {
          // No continuity-lost: nothing accepted may be missing.
          expect(accepted.filter((a) => !received.has(a.id)).map((a) => a.id)).toEqual([]);
          continue;
        }
        // continuity-lost comes after the gap: what came before it was accepted before
        // Redis stopped, what came after it after Redis was back.
        const first = client.frames.indexOf(lost[0]!);
        const before = client.frames.slice(0, first).filter((frame) => frame.channel === channel && typeof frame.seq === 'string');
        const after = client.frames.slice(first).filter((frame) => frame.channel === channel && typeof frame.seq === 'string');
        const startedAt = new Map(attempts.map((a) => [a.id, a.startedAt]));
        expect(before.filter((event) => !startedAt.has(event.id) || startedAt.get(event.id)! > stoppedAt)).toEqual([]);
        expect(after.filter((event) => !startedAt.has(event.id) || startedAt.get(event.id)! < restarting)).toEqual([]);
        // Everything accepted before the outage arrived before the gap...
        expect(accepted.filter((a) => a.endedAt < stopping && !before.some((event) => event.id === a.id)).map((a) => a.id)).toEqual([]);
        // ...and everything accepted once the client was told, after it.
        const toldAt = lostAt.get(channel)!;
        expect(accepted.filter((a) => a.startedAt > toldAt && !after.some((event) => event.id === a.id)).map((a) => a.id)).toEqual([]);
      }
      // Only events that were published, on the channels subscribed.
      for (const event of client.events()) {
        expect(published.has(event.id) || quietAttempts.some((a) => a.id === event.id)).toBe(true);
      }
    }
    // The restart lost history: the busy channels' subscribers must have been told.
    for (const { client } of subs) for (const producer of producers) expect(lostFrames(client, producer.channel).length).toBeGreaterThan(0);
    expect(await Promise.all(everyNode.map(readyStatus))).toEqual(everyNode.map(() => 200));
  }, 120_000);
});
