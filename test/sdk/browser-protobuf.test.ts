/**
 * `format: 'protobuf'` in a real browser: Debian's Chromium (headless, playwright-core)
 * loads the `@herald/client/protobuf` browser bundle (esbuild from
 * packages/client/src/protobuf-browser.ts, as an application bundler would), connects
 * to a Herald node with the subprotocol v1.protobuf on the platform WebSocket, and
 * receives events published through ingest as binary frames, the same ids, seqs and
 * data as a JSON subscriber of the channel in Node. The browser's own record of the
 * frames shows that everything on the wire was binary.
 *
 * Without /usr/bin/chromium the test is skipped with the reason printed (browser.test.ts
 * installs it when running as root).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.js';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const CLIENT_DIR = fileURLToPath(new URL('../../packages/client/', import.meta.url));

type EsbuildBuild = (options: Record<string, unknown>) => Promise<{ outputFiles: Array<{ text: string }> }>;

/** The protobuf browser entry bundled like an application would (esbuild is the client package's devDependency). */
async function protobufBundle(): Promise<string> {
  const esbuildPath = createRequire(join(CLIENT_DIR, 'package.json')).resolve('esbuild');
  const esbuild = (await import(pathToFileURL(esbuildPath).href)) as { build?: EsbuildBuild; default?: { build: EsbuildBuild } };
  const build = esbuild.build ?? esbuild.default!.build;
  const result = await build({
    entryPoints: [join(CLIENT_DIR, 'src/protobuf-browser.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['ws'],
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Herald SDK, v1.protobuf, in a browser</title>
<script type="module">
  import { HeraldClient } from '/herald-client-protobuf.js';
  const params = new URLSearchParams(location.search);
  const log = (window.herald = { events: [], subscribed: [], errors: [], pings: [] });
  const client = new HeraldClient({ url: params.get('url'), token: params.get('token'), format: 'protobuf' });
  log.format = client.format;
  client.on('error', (error) => log.errors.push(error.kind + ' ' + error.message));
  const sub = client.subscribe(params.get('channel'));
  sub.on('event', (event) => log.events.push(event));
  sub.on('subscribed', (info) => log.subscribed.push(info));
  client.connect().then(async () => log.pings.push(await client.ping()));
</script>`;

let herald: HeraldProcess | undefined;
let context: BrowserContext | undefined;
let server: Server | undefined;
let userDataDir: string | undefined;

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await herald?.stop();
});

const unavailable = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (browser.test.ts installs the Debian package chromium when running as root)`;
if (unavailable) console.log(`[browser-protobuf] skipped: ${unavailable}`);

it.skipIf(unavailable !== undefined)('Chromium with format protobuf: binary frames only, the same events as a JSON subscriber', { timeout: 90_000 }, async () => {
  const [bundle, started] = await Promise.all([protobufBundle(), startHerald()]);
  herald = started;
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/herald-client-protobuf.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const pageOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  userDataDir = mkdtempSync(join(tmpdir(), 'herald-chromium-pb-'));
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const frames = { sentText: 0, sentBinary: 0, receivedText: 0, receivedBinary: 0 };
  page.on('websocket', (socket) => {
    socket.on('framesent', (frame) => (typeof frame.payload === 'string' ? frames.sentText++ : frames.sentBinary++));
    socket.on('framereceived', (frame) => (typeof frame.payload === 'string' ? frames.receivedText++ : frames.receivedBinary++));
  });

  const merchant = `m_browser_pb_${Date.now().toString(36)}`;
  const channel = `merchant:${merchant}`;
  const json = await TestClient.open(herald.wsUrl, { token: clientToken({ channels: [channel] }), protocols: 'v1.json' });
  await json.subscribe(channel);
  const token = clientToken({ sub: 'browser-protobuf', channels: [channel] });
  await page.goto(`${pageOrigin}/?${new URLSearchParams({ url: herald.wsUrl, token, channel })}`);
  await page.waitForFunction(() => (globalThis as any).herald?.subscribed.length >= 1 && (globalThis as any).herald.pings.length >= 1, undefined, { timeout: 15_000 });

  const events = [
    paymentCreated(merchant),
    paymentCreated(merchant, { data: { payment_id: 'pay_b', order_id: 'order_b', merchant_id: merchant, amount: 0, currency: 'EUR', status: 'pending', meta: { a: [1, 'x', null] } } }),
    { type: 'payment.updated', id: `evt_bu_${Date.now()}`, data: { payment_id: 'pay_b', merchant_id: merchant, status: 'captured', amount: 5 } },
  ];
  for (const event of events) expect((await publish(herald.url, event)).status).toBe(202);
  await page.waitForFunction((n) => (globalThis as any).herald.events.length >= n, events.length, { timeout: 10_000 });
  const expected = await json.waitForEvents(events.length, channel);
  const log = (await page.evaluate(() => (globalThis as any).herald)) as { format: string; events: unknown[]; errors: string[] };

  expect(pageErrors).toEqual([]);
  expect(log.errors).toEqual([]);
  expect(log.format).toBe('protobuf');
  expect(log.events).toEqual(expected);
  expect(frames.receivedText + frames.sentText).toBe(0);
  expect(frames.receivedBinary).toBeGreaterThanOrEqual(3 + events.length); // connected, subscribed, pong, events
  expect(frames.sentBinary).toBeGreaterThanOrEqual(2); // subscribe, ping
  await json.close();
});
