/**
 * The SDK in a real browser: Debian's Chromium (headless, driven by playwright-core)
 * loads a page that imports the SDK's browser bundle (built here with esbuild from
 * packages/client/src/browser.ts, the way an application bundler would), connects with
 * its token in the query string (`?access_token=`: browsers cannot set handshake
 * headers), subscribes, and receives an event published through ingest. Then the edge
 * it is on is SIGTERMed (close 1001, "node draining: reconnect to another node"): the
 * page moves to the other edge of its URL list, resubscribes with `since`, and gets the
 * event published while it was away and the next one, each once, in order.
 *
 * Without /usr/bin/chromium: installed with apt-get when running as root, otherwise the
 * test is skipped with the reason printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumUnavailable } from '../support/chromium.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { startCluster, type Cluster } from './harness.js';

const CLIENT_DIR = fileURLToPath(new URL('../../packages/client/', import.meta.url));


/** The part of esbuild's API used here (esbuild is not a dependency of the test package). */
type EsbuildBuild = (options: Record<string, unknown>) => Promise<{ outputFiles: Array<{ text: string }> }>;

/** The browser entry bundled like an application would (esbuild is the client package's devDependency). */
async function browserBundle(): Promise<string> {
  const esbuildPath = createRequire(join(CLIENT_DIR, 'package.json')).resolve('esbuild');
  const esbuild = (await import(pathToFileURL(esbuildPath).href)) as { build?: EsbuildBuild; default?: { build: EsbuildBuild } };
  const build = esbuild.build ?? esbuild.default!.build;
  const result = await build({
    entryPoints: [join(CLIENT_DIR, 'src/browser.ts')],
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
<title>Herald SDK in a browser</title>
<script type="module">
  import { HeraldClient } from '/herald-client.js';
  const params = new URLSearchParams(location.search);
  const log = (window.herald = { events: [], connections: [], disconnects: [], subscribed: [], errors: [], states: [] });
  const client = new HeraldClient({ url: JSON.parse(params.get('urls')), token: params.get('token') });
  client.on('state', (state) => log.states.push(state));
  client.on('connected', (info) => log.connections.push(info));
  client.on('disconnected', (info) => log.disconnects.push(info));
  client.on('error', (error) => log.errors.push(error.kind + ' ' + error.message));
  const sub = client.subscribe(params.get('channel'));
  sub.on('payment.created', (event) => log.events.push({ id: event.id, seq: event.seq, amount: event.data.amount }));
  sub.on('subscribed', (info) => log.subscribed.push(info));
  client.connect();
</script>`;

let cluster: Cluster | undefined;
let context: BrowserContext | undefined;
let server: Server | undefined;
let userDataDir: string | undefined;

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await cluster?.stop();
});

const unavailable = chromiumUnavailable();
if (unavailable) console.log(`[browser] skipped: ${unavailable}`);

it.skipIf(unavailable !== undefined)(
  'Chromium: token in the query, subscribe, receive, survive a 1001 drain onto the other edge, receive the next events',
  { timeout: 120_000 },
  async () => {
    const startedAt = Date.now();
    const [bundle, started] = await Promise.all([
      browserBundle(),
      startCluster({ edges: 2, env: { SHUTDOWN_DRAIN_PERIOD: '1s', SHUTDOWN_TIMEOUT: '6s' } }),
    ]);
    cluster = started;
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/herald-client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      else if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const pageOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    userDataDir = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const socketUrls: string[] = [];
    page.on('websocket', (socket) => socketUrls.push(socket.url()));

    const merchant = `m_browser_${Date.now().toString(36)}`;
    const channel = `merchant:${merchant}`;
    const token = clientToken({ sub: 'browser-user', channels: [channel] });
    const query = new URLSearchParams({ urls: JSON.stringify(cluster.urls), token, channel });
    await page.goto(`${pageOrigin}/?${query}`);
    await page.waitForFunction(() => (globalThis as any).herald?.subscribed.length >= 1, undefined, { timeout: 15_000 });
    const version = context.browser()?.version() ?? (await page.evaluate(() => String((globalThis as any).navigator.userAgent)));

    const first = paymentCreated(merchant);
    expect((await publish(cluster.ingest.url, first)).status).toBe(202);
    await page.waitForFunction(() => (globalThis as any).herald.events.length >= 1, undefined, { timeout: 10_000 });

    // The token went in the query string (the only place a browser can put it).
    expect(socketUrls[0]).toContain('access_token=');
    expect(socketUrls[0]).not.toContain('Bearer');
    const firstConnection = (await page.evaluate(() => (globalThis as any).herald.connections[0])) as { url: string; node: string };
    const onEdge = cluster.urls.indexOf(firstConnection.url);
    expect(onEdge).toBeGreaterThanOrEqual(0);
    const otherUrl = cluster.urls[1 - onEdge]!;

    // Deploy step on the node the page is on: SIGTERM, 1001 within the drain period.
    const edge = cluster.edges[onEdge]!;
    const signalledAt = Date.now();
    edge.child.kill('SIGTERM');
    await page.waitForFunction(() => (globalThis as any).herald.disconnects.length >= 1, undefined, { timeout: 10_000 });
    // Published while the page is between nodes: must come through recovery (since).
    const second = paymentCreated(merchant);
    expect((await publish(cluster.ingest.url, second)).status).toBe(202);
    await page.waitForFunction(() => (globalThis as any).herald.subscribed.length >= 2, undefined, { timeout: 15_000 });
    const backMs = Date.now() - signalledAt;
    const third = paymentCreated(merchant);
    expect((await publish(cluster.ingest.url, third)).status).toBe(202);
    await page.waitForFunction(() => (globalThis as any).herald.events.length >= 3, undefined, { timeout: 10_000 });
    const exit = await edge.exited;

    const log = (await page.evaluate(() => (globalThis as any).herald)) as {
      events: Array<{ id: string; seq: string }>;
      connections: Array<{ url: string; node: string; reconnected: boolean }>;
      disconnects: Array<{ code: number; reason: string; willReconnect: boolean }>;
      subscribed: Array<{ since?: string; recovered: boolean; missed: number; resubscribed: boolean }>;
      errors: string[];
    };
    console.log(
      `[browser] ${version}: events ${log.events.length}, disconnect ${JSON.stringify(log.disconnects[0])}, moved ${firstConnection.url} -> ${log.connections[1]?.url}, ` +
        `resubscribed ${JSON.stringify(log.subscribed[1])}, back ${backMs} ms after SIGTERM, edge exit ${JSON.stringify(exit)}, total ${Date.now() - startedAt} ms`,
    );

    expect(pageErrors).toEqual([]);
    expect(log.events.map((event) => event.id)).toEqual([first.id, second.id, third.id]);
    expect(log.disconnects[0]).toMatchObject({ code: 1001, reason: 'node draining: reconnect to another node', willReconnect: true });
    expect(log.connections).toHaveLength(2);
    expect(log.connections[1]).toMatchObject({ url: otherUrl, reconnected: true });
    expect(log.subscribed[1]).toMatchObject({ since: log.events[0]!.seq, recovered: true, resubscribed: true });
    expect(socketUrls.every((url) => url.includes('access_token='))).toBe(true);
    expect(exit).toEqual({ code: 0, signal: null });
  },
);
