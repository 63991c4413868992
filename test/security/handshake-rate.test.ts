/**
 * MAX_HANDSHAKES_PER_IP_PER_SECOND on a real edge (`herald start`): a burst of upgrades
 * from one address gets 429 `/problems/rate-limited` with Retry-After past the limit,
 * before the token is even looked at (the burst carries none: the admitted ones get 401,
 * the others 429); the next second admits again; with TRUSTED_PROXIES=127.0.0.1 two
 * clients named by X-Forwarded-For are counted apart, and without it the header is
 * ignored. Refusals are counted in herald_edge_handshakes_refused_total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { metricValue } from '../support/http.js';
import { rawRequest, upgradeRequest, type RawAnswer } from '../support/raw-http.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const LIMIT = 5;

let plain: HeraldProcess;
let proxied: HeraldProcess;

beforeAll(async () => {
  [plain, proxied] = await Promise.all([
    startHerald({ env: { MAX_HANDSHAKES_PER_IP_PER_SECOND: String(LIMIT) } }),
    startHerald({ env: { MAX_HANDSHAKES_PER_IP_PER_SECOND: String(LIMIT), TRUSTED_PROXIES: '127.0.0.1' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), proxied?.stop()]);
});

/** Resolves just after the wall clock enters a new second: the limit counts per second. */
function nextSecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 20));
}

/**
 * Sends `forwardedFor.length` upgrades without a token at once, within one second of the
 * clock (tried again should a slow machine spread them over two), and returns the answers.
 */
async function burst(herald: HeraldProcess, forwardedFor: ReadonlyArray<string | undefined>): Promise<RawAnswer[]> {
  for (let attempt = 1; ; attempt++) {
    await nextSecond();
    const second = Math.floor(Date.now() / 1_000);
    const answers = await Promise.all(forwardedFor.map((xff) => rawRequest(herald.port, upgradeRequest('/v1/ws', { 'X-Forwarded-For': xff }), { timeoutMs: 5_000 })));
    if (Math.floor(Date.now() / 1_000) === second || attempt === 3) return answers;
  }
}

const statuses = (answers: readonly RawAnswer[]): number[] => answers.map((answer) => answer.status).sort();

describe('per-address handshake limit', () => {
  it('refuses a burst from one address past the limit with 429 before looking at the token, and admits again the next second', async () => {
    const before = await metricValue(plain.url, 'herald_edge_handshakes_refused_total', { reason: 'rate-limited' });
    const answers = await burst(plain, Array.from({ length: LIMIT + 4 }, () => undefined));
    expect(statuses(answers)).toEqual([...Array(LIMIT).fill(401), ...Array(4).fill(429)]);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json).toMatchObject({ type: '/problems/rate-limited', status: 429 });
    expect(refused.closed).toBe(true);
    expect(await metricValue(plain.url, 'herald_edge_handshakes_refused_total', { reason: 'rate-limited' })).toBe(before + 4);

    await nextSecond();
    // open() resolves on the `connected` frame.
    const client = await TestClient.open(plain.wsUrl, { token: clientToken({ sub: 'rate', channels: ['merchant:m_rate'] }) });
    expect(client.frames.map((frame) => frame.type)).toContain('connected');
    client.socket.terminate();
  });

  it('counts clients behind a trusted proxy apart by X-Forwarded-For', async () => {
    const a = '198.51.100.1';
    const b = '198.51.100.2';
    // The client may prepend anything; the address the trusted hop appended counts.
    const answers = await burst(proxied, [...Array(LIMIT + 1).fill(`203.0.113.9, ${a}`), ...Array(LIMIT + 1).fill(b)]);
    expect(statuses(answers.slice(0, LIMIT + 1))).toEqual([...Array(LIMIT).fill(401), 429]);
    expect(statuses(answers.slice(LIMIT + 1))).toEqual([...Array(LIMIT).fill(401), 429]);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const answers = await burst(plain, [...Array(LIMIT + 1).fill('198.51.100.1'), ...Array(LIMIT + 1).fill('198.51.100.2')]);
    expect(statuses(answers)).toEqual([...Array(LIMIT).fill(401), ...Array(LIMIT + 2).fill(429)]);
  });
});
