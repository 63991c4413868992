/**
 * `herald start`'s banner prints a `herald tail` and a `herald publish` line; run as
 * printed (through /bin/sh, with nothing else in the environment), the published event
 * shows up in the tail. With TLS=self-signed the lines use wss:// and https:// and
 * trust the printed certificate through NODE_EXTRA_CA_CERTS.
 */
import { describe, expect, it } from 'vitest';
import { CLI, startHerald } from '../support/herald.js';
import { envelopes, runCli, startTail } from './support.js';

async function bannerLines(env: Record<string, string | undefined>): Promise<{ stop: () => Promise<unknown>; tail: string; publish: string; port: number }> {
  // Not waitReady: that polls over http, and with TLS the port speaks https; the banner follows listening.
  const herald = await startHerald({ env: { JWT_SECRET: undefined, ...env } });
  try {
    const tail = (await herald.waitForLine((line) => / tail merchant:m_42$/.test(line))).trim();
    const publish = (await herald.waitForLine((line) => line.includes(' publish --type payment.created --data '))).trim();
    return { stop: () => herald.stop(), tail, publish, port: herald.port };
  } catch (error) {
    await herald.stop();
    throw error;
  }
}

describe('the herald start banner', () => {
  it.each([
    ['plain', {}, 'ws', 'http'],
    ['TLS=self-signed', { TLS: 'self-signed' }, 'wss', 'https'],
  ] as const)('%s: the printed tail and publish lines work as pasted', async (_name, env, ws, http) => {
    const banner = await bannerLines(env);
    try {
      const trust = ws === 'wss' ? 'NODE_EXTRA_CA_CERTS="[^"]+" ' : '';
      expect(banner.tail).toMatch(new RegExp(`^${trust}EDGE_URL=${ws}://127\\.0\\.0\\.1:${banner.port} HERALD_TOKEN=eyJ[\\w.-]+ node ${CLI} tail merchant:m_42$`));
      expect(banner.publish).toMatch(new RegExp(`^${trust}INGEST_URL=${http}://127\\.0\\.0\\.1:${banner.port} INGEST_API_KEY=eyJ[\\w.-]+ node ${CLI} publish --type payment\\.created --data '\\{.+\\}'$`));

      const tail = startTail({ shell: banner.tail }, {});
      try {
        await tail.waitForStderr('merchant:m_42: subscribed');
        const published = await runCli({ shell: banner.publish }, {});
        expect(published.code, published.stderr).toBe(0);
        const answer = JSON.parse(published.stdout) as { id: string; channels: string[] };
        expect(answer.channels).toContain('merchant:m_42');
        const [event] = envelopes(await tail.waitForLines(1));
        expect(event).toMatchObject({ type: 'payment.created', id: answer.id, channel: 'merchant:m_42', data: { merchant_id: 'm_42', amount: 10000 } });
      } finally {
        await tail.stop('SIGINT');
      }
    } finally {
      await banner.stop();
    }
  });
});
