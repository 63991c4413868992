/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) on a
 * real cluster: one redis-server, three `herald edge` with CONSOLE_ENABLED and one
 * `herald ingest` on another origin (CONSOLE_INGEST_URL on the edges, CONSOLE_ORIGINS
 * on the ingest, so the publish form goes through CORS).
 *
 * - A token without the scope admin (even with a `*` grant) is refused: the edge
 *   answers `forbidden` on `_herald:stats` and the page says the scope is missing.
 * - With an admin token the page shows 3 nodes and the connections the test opened
 *   (5, 7 and 9, plus the console's own on the edge that served it), per node and in
 *   total, through the stats every edge publishes on the broker.
 * - The channel tail shows an event published through the ingest within a second, and
 *   the publish form's event too.
 * - Screenshots, desktop and phone, go to test/.artifacts/ (gitignored).
 * - A killed edge disappears from the page within a few seconds.
 *
 * Without /usr/bin/chromium: installed with apt-get when running as root, otherwise the
 * test is skipped with the reason printed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumUnavailable } from '../support/chromium.js';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { startRedis, uniquePrefix, type RedisServer } from '../support/redis.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));
const CONNECTIONS = [5, 7, 9];


/** A port free right now, for processes that must know each other's origin before they start. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

let redis: RedisServer | undefined;
const processes: HeraldProcess[] = [];
const clients: TestClient[] = [];
let context: BrowserContext | undefined;
let userDataDir: string | undefined;

afterAll(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  for (const client of clients) void client.close();
  await Promise.all(processes.map((herald) => herald.stop('SIGKILL')));
  await redis?.stop();
});

const unavailable = chromiumUnavailable();
if (unavailable) console.log(`[console] skipped: ${unavailable}`);

it.skipIf(unavailable !== undefined)(
  'Chromium: refused without scope admin; 3 edges with 5/7/9 connections on Redis shown per node and in total; tail within a second; publish form; screenshots; a killed edge disappears',
  { timeout: 150_000 },
  async () => {
    redis = await startRedis();
    const prefix = uniquePrefix('console').replace(/[^A-Za-z0-9_.-]/g, '-');
    const ports = await Promise.all(CONNECTIONS.map(() => freePort()));
    const consoleOrigin = `http://127.0.0.1:${ports[0]}`;
    const shared = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix };
    const ingest = await startHerald({ mode: 'ingest', env: { ...shared, CONSOLE_ORIGINS: consoleOrigin }, waitReady: true, timeoutMs: 20_000 });
    processes.push(ingest);
    const edges = await Promise.all(
      ports.map((port) =>
        startHerald({ mode: 'edge', env: { ...shared, PORT: String(port), CONSOLE_ENABLED: 'true', CONSOLE_INGEST_URL: ingest.url }, waitReady: true, timeoutMs: 20_000 }),
      ),
    );
    processes.push(...edges);

    // 5, 7 and 9 connections, each subscribed to the load channel.
    const loadMerchant = `m_load_${Date.now().toString(36)}`;
    const nodeIds: string[] = [];
    for (const [index, edge] of edges.entries()) {
      for (let count = 0; count < CONNECTIONS[index]!; count += 1) {
        const client = await TestClient.connect(edge.wsUrl, { token: clientToken({ sub: `load-${index}-${count}`, channels: [`merchant:${loadMerchant}`] }), protocols: 'v1.json' });
        clients.push(client);
        const connected = await client.next((frame) => frame.type === 'connected');
        nodeIds[index] = connected.data.node;
        expect(await client.subscribe(`merchant:${loadMerchant}`)).toMatchObject({ type: 'subscribed' });
      }
    }

    userDataDir = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${consoleOrigin}/console/`);

    // A * grant without the scope admin: the edge refuses the stats channel.
    await page.fill('#token', clientToken({ sub: 'not-admin', channels: ['*'], scope: 'events:publish' }));
    await page.click('#signin-form button[type=submit]');
    await page.waitForFunction(() => ((globalThis as any).document.getElementById('signin-error')?.textContent ?? '') !== '', undefined, { timeout: 10_000 });
    const refusal = await page.textContent('#signin-error');
    expect(refusal).toContain('does not have the scope admin');
    expect(refusal).toContain('Not allowed to subscribe to _herald:stats');
    expect(await page.isHidden('#dashboard')).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('herald.console.token'))).toBeNull();

    // An admin token (also allowed to publish and to tail any channel).
    await page.fill('#token', clientToken({ sub: 'ops', channels: ['*'], scope: 'admin events:publish' }));
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#dashboard', { state: 'visible', timeout: 10_000 });
    // 5 + 7 + 9 and the console's own connection on the first edge.
    const expected = { nodes: '3', connections: String(5 + 7 + 9 + 1), subscriptions: String(5 + 7 + 9 + 1) };
    await page.waitForFunction(
      (want) => (globalThis as any).document.getElementById('t-nodes')?.textContent === want.nodes && (globalThis as any).document.getElementById('t-connections')?.textContent === want.connections,
      expected,
      { timeout: 10_000 },
    );
    expect(await page.textContent('#t-subscriptions')).toBe(expected.subscriptions);
    const rows = await page.$$eval('#nodes tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const byNode = new Map(rows.map((cells) => [cells[0]!, cells]));
    expect(byNode.size).toBe(3);
    nodeIds.forEach((node, index) => {
      const cells = byNode.get(node);
      expect(cells, node).toBeDefined();
      expect(cells![1]).toBe(String(CONNECTIONS[index]! + (index === 0 ? 1 : 0)));
      expect(cells![9]).toBe('live');
    });

    // The tail: subscribe, then an event published through the ingest shows within a second.
    const tailMerchant = `m_tail_${Date.now().toString(36)}`;
    await page.fill('#tail-channel', `merchant:${tailMerchant}`);
    await page.click('#tail-form button[type=submit]');
    await page.waitForFunction(() => ((globalThis as any).document.getElementById('tail-status')?.textContent ?? '').startsWith('Tailing'), undefined, { timeout: 10_000 });
    const event = paymentCreated(tailMerchant);
    const sentAt = Date.now();
    expect((await publish(ingest.url, event)).status).toBe(202);
    await page.waitForFunction((id) => ((globalThis as any).document.querySelector('#tail li')?.textContent ?? '').includes(id), event.id as string, { timeout: 5_000, polling: 20 });
    const tailMs = Date.now() - sentAt;
    expect(tailMs).toBeLessThan(1_000);
    const shown = JSON.parse((await page.textContent('#tail li'))!);
    expect(shown).toMatchObject({ type: 'payment.created', id: event.id, channel: `merchant:${tailMerchant}`, data: event.data });
    expect(shown.seq).toMatch(/^\d+-\d+$/);

    // The publish form, cross-origin to the ingest (CORS for CONSOLE_ORIGINS), with the sign-in token.
    const formEvent = { type: 'payment.created', id: `evt_form_${Date.now().toString(36)}`, data: { ...(paymentCreated(tailMerchant).data as object), amount: 4242 } };
    await page.fill('#publish-body', JSON.stringify(formEvent, null, 2));
    await page.click('#publish-form button[type=submit]');
    await page.waitForFunction(() => /^\d{3} /.test((globalThis as any).document.getElementById('publish-result')?.textContent ?? ''), undefined, { timeout: 10_000 });
    expect(await page.textContent('#publish-result')).toMatch(/^202 /);
    await page.waitForFunction((id) => ((globalThis as any).document.querySelector('#tail li')?.textContent ?? '').includes(id), formEvent.id, { timeout: 5_000 });

    // Some traffic for the rates and lag charts (21 deliveries per event), running while
    // both screenshots are taken.
    let traffic = true;
    const publisher = (async () => {
      while (traffic) {
        await Promise.all(Array.from({ length: 5 }, () => publish(ingest.url, paymentCreated(loadMerchant))));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    })();
    await page.waitForTimeout(8_000);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(2_000);
    await page.screenshot({ path: join(ARTIFACTS, 'console-phone.png'), fullPage: true });
    traffic = false;
    await publisher;
    // Nothing sticks out sideways on a phone: the page is as wide as the screen.
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    // A node that stops publishing leaves the page within a few seconds.
    const killedAt = Date.now();
    await edges[2]!.stop('SIGKILL');
    await page.waitForFunction(() => (globalThis as any).document.getElementById('t-nodes')?.textContent === '2', undefined, { timeout: 10_000 });
    const goneMs = Date.now() - killedAt;
    expect(await page.textContent('#t-connections')).toBe(String(5 + 7 + 1));
    console.log(`[console] ${context.browser()?.version() ?? 'chromium'}: tail ${tailMs} ms after publish; killed node gone after ${goneMs} ms; screenshots in ${ARTIFACTS}`);
    expect(goneMs).toBeLessThan(8_000);
    expect(pageErrors).toEqual([]);
  },
);
