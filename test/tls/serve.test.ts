/**
 * PROTOCOL.md section 12: with TLS_CERT_FILE and TLS_KEY_FILE the edge serves wss://
 * and https://, and the ingest https://, on their usual ports. A client trusting the
 * test CA subscribes over wss and receives an event published over https; plain
 * ws:// and http:// to those ports fail cleanly and leave the nodes serving.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { keyPrefix } from '../support/cluster.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { clientToken, publisherToken } from '../support/tokens.js';
import { created, freshKeys } from '../ingest/helpers.js';
import { TlsClient, createCa, httpsRequest, tempDir, type Issued, type TestCa } from './pki.js';

let ca: TestCa;
let leaf: Issued;
let redis: RedisServer;
let edge: HeraldProcess;
let ingest: HeraldProcess;
const clients: TlsClient[] = [];

beforeAll(async () => {
  ca = await createCa();
  leaf = await ca.issue();
  const dir = tempDir('tls-serve');
  writeFileSync(join(dir, 'tls.crt'), leaf.cert);
  writeFileSync(join(dir, 'tls.key'), leaf.key);
  redis = await startRedis();
  const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix('tls'), TLS_CERT_FILE: join(dir, 'tls.crt'), TLS_KEY_FILE: join(dir, 'tls.key') };
  [edge, ingest] = await Promise.all([startHerald({ mode: 'edge', env }), startHerald({ mode: 'ingest', env })]);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all([edge?.stop(), ingest?.stop()]);
  await redis?.stop();
});

const wss = (): string => `wss://127.0.0.1:${edge.port}/v1/ws`;

describe('edge over wss, ingest over https', () => {
  it('delivers an event published over https to a wss subscriber that trusts the CA', async () => {
    const keys = freshKeys();
    const client = await TlsClient.connect(wss(), clientToken({ channels: [`merchant:${keys.merchant}`] }), ca.cert);
    clients.push(client);
    expect((await client.next()).type).toBe('connected');
    expect(client.peerSerial()).toBe(leaf.serial);
    expect((await client.subscribe(`merchant:${keys.merchant}`)).type).toBe('subscribed');

    const event = created(keys);
    const answer = await httpsRequest(`https://127.0.0.1:${ingest.port}/v1/events`, ca.cert, { method: 'POST', token: publisherToken(), body: event });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.serial).toBe(leaf.serial);
    const delivered = await client.nextOf('payment.created', 10_000);
    expect(delivered).toMatchObject({ id: event.id, channel: `merchant:${keys.merchant}` });
  });

  it('serves health over https on both ports, and localhost matches the certificate', async () => {
    for (const port of [edge.port, ingest.port]) {
      expect((await httpsRequest(`https://localhost:${port}/healthz`, ca.cert)).status).toBe(200);
    }
  });

  it('refuses a client that does not trust the CA', async () => {
    const stranger = await createCa('Another CA');
    await expect(httpsRequest(`https://127.0.0.1:${edge.port}/healthz`, stranger.cert)).rejects.toThrow(/certificate/i);
  });

  it('fails a plain ws:// client cleanly, and keeps serving wss', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${edge.port}/v1/ws`, ['v1.json'], { headers: { authorization: `Bearer ${clientToken()}` } });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('open', () => resolve('open'));
      socket.once('unexpected-response', () => resolve('response'));
      socket.once('error', (error) => resolve(`error: ${error.message}`));
    });
    socket.terminate();
    expect(outcome).toMatch(/^error: /);
    // Plain HTTP to the ingest port fails the same way.
    await expect(fetch(`http://127.0.0.1:${ingest.port}/healthz`)).rejects.toThrow();

    const client = await TlsClient.connect(wss(), clientToken({ channels: ['merchant:m_1'] }), ca.cert);
    clients.push(client);
    expect((await client.next()).type).toBe('connected');
    expect(edge.child.exitCode).toBeNull();
    expect(ingest.child.exitCode).toBeNull();
  });
});
