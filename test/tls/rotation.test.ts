/**
 * PROTOCOL.md section 12, rotation: when the files change on disk (rewritten in place,
 * or swapped the way Kubernetes Secret volumes and cert-manager do, through a `..data`
 * symlink), new handshakes present the new certificate within 10 s while existing
 * connections stay and keep receiving events; a bad new pair is logged and the old one
 * kept.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { clientToken, publisherToken } from '../support/tokens.js';
import { created, freshKeys } from '../ingest/helpers.js';
import { TlsClient, createCa, httpsRequest, tempDir, type Issued, type TestCa } from './pki.js';

/** PROTOCOL.md's bound: a rotation is served within this. */
const ROTATION_MS = 10_000;

let ca: TestCa;
const processes: HeraldProcess[] = [];
const clients: TlsClient[] = [];

beforeAll(async () => {
  ca = await createCa();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(processes.map((p) => p.stop()));
});

async function start(certFile: string, keyFile: string): Promise<HeraldProcess> {
  const herald = await startHerald({ env: { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } });
  processes.push(herald);
  return herald;
}

/** A subscribed wss client; checks which certificate its handshake got. */
async function subscriber(herald: HeraldProcess, channel: string): Promise<TlsClient> {
  const client = await TlsClient.connect(`wss://127.0.0.1:${herald.port}/v1/ws`, clientToken({ channels: [channel] }), ca.cert);
  clients.push(client);
  expect((await client.next()).type).toBe('connected');
  expect((await client.subscribe(channel)).type).toBe('subscribed');
  return client;
}

/** Publishes over https and checks that every client receives the event. */
async function deliversTo(herald: HeraldProcess, merchant: ReturnType<typeof freshKeys>, receivers: TlsClient[]): Promise<void> {
  const event = created(merchant);
  const answer = await httpsRequest(`https://127.0.0.1:${herald.port}/v1/events`, ca.cert, { method: 'POST', token: publisherToken(), body: event });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  for (const client of receivers) expect((await client.nextOf('payment.created')).id).toBe(event.id);
}

/** The serial a fresh handshake presents. */
async function servedSerial(herald: HeraldProcess): Promise<string> {
  return (await httpsRequest(`https://127.0.0.1:${herald.port}/healthz`, ca.cert)).serial;
}

function reloaded(herald: HeraldProcess, leaf: Issued): Promise<Record<string, unknown>> {
  return herald.waitForLog((r) => r.msg === 'tls certificate reloaded' && r.serial === leaf.serial, ROTATION_MS);
}

describe('certificate rotation', () => {
  it('serves a pair rewritten in place to new handshakes, keeps the old connections, and keeps the old pair when the new one is bad', async () => {
    const dir = tempDir('tls-rotate');
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    const first = await ca.issue();
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    const herald = await start(certFile, keyFile);
    const keys = freshKeys();
    const before = await subscriber(herald, `merchant:${keys.merchant}`);
    expect(before.peerSerial()).toBe(first.serial);

    // In place, as a writer that truncates and rewrites each file.
    const second = await ca.issue();
    const written = Date.now();
    writeFileSync(keyFile, second.key);
    writeFileSync(certFile, second.cert);
    await reloaded(herald, second);
    expect(Date.now() - written).toBeLessThan(ROTATION_MS);
    expect(await servedSerial(herald)).toBe(second.serial);
    const after = await subscriber(herald, `merchant:${keys.merchant}`);
    expect(after.peerSerial()).toBe(second.serial);
    await deliversTo(herald, keys, [before, after]);

    // A certificate with another pair's key: logged, the second pair stays.
    const third = await ca.issue();
    writeFileSync(certFile, third.cert);
    const refused = await herald.waitForLog((r) => r.msg === 'tls certificate not reloaded: keeping the previous one' && r.kept === second.serial, ROTATION_MS);
    expect(String(refused.reason)).toMatch(/TLS_KEY_FILE: the key in .* does not match the certificate/);
    expect(await servedSerial(herald)).toBe(second.serial);
    // A file gone (mid-rotation, or for good): logged, the second pair stays.
    rmSync(keyFile);
    const missing = await herald.waitForLog((r) => r.msg === 'tls certificate not reloaded: keeping the previous one' && /cannot read/.test(String(r.reason)), ROTATION_MS);
    expect(String(missing.reason)).toMatch(/TLS_KEY_FILE: cannot read ".*tls\.key": no such file/);
    expect(await servedSerial(herald)).toBe(second.serial);
    await deliversTo(herald, keys, [before, after]);

    // Completing the pair later is picked up like any rotation.
    writeFileSync(keyFile, third.key);
    await reloaded(herald, third);
    expect(await servedSerial(herald)).toBe(third.serial);
    await deliversTo(herald, keys, [before, after]);
    expect(herald.child.exitCode).toBeNull();
  });

  it('follows a symlink swap of the ..data directory, as Kubernetes Secret volumes rotate', async () => {
    // <dir>/tls.crt -> ..data/tls.crt, ..data -> ..<version>: the kubelet writes a new
    // version directory, then renames a new ..data link over the old one.
    const dir = tempDir('tls-symlink');
    const version = (name: string, leaf: Issued): void => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'tls.crt'), leaf.cert);
      writeFileSync(join(dir, name, 'tls.key'), leaf.key);
    };
    const first = await ca.issue();
    version('..v1', first);
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(dir, 'tls.key'));
    const herald = await start(join(dir, 'tls.crt'), join(dir, 'tls.key'));
    const keys = freshKeys();
    const before = await subscriber(herald, `merchant:${keys.merchant}`);
    expect(before.peerSerial()).toBe(first.serial);

    const second = await ca.issue();
    version('..v2', second);
    symlinkSync('..v2', join(dir, '..data_tmp'));
    const swapped = Date.now();
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..v1'), { recursive: true });
    await reloaded(herald, second);
    expect(Date.now() - swapped).toBeLessThan(ROTATION_MS);
    const after = await subscriber(herald, `merchant:${keys.merchant}`);
    expect(after.peerSerial()).toBe(second.serial);
    await deliversTo(herald, keys, [before, after]);
  });
});
