/**
 * PROTOCOL.md section 8 (running it) and the duration syntax of section 5: `herald
 * start` without JWT_SECRET prints a working client token and curl example; every
 * variable is validated at start, a bad value stops the process with one line.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runHerald, startHerald } from '../support/herald.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const execFileAsync = promisify(execFile);

describe('herald start without JWT_SECRET', () => {
  it('prints a client token and a curl example that both work', async () => {
    const herald = await startHerald({ env: { JWT_SECRET: undefined }, waitReady: true });
    try {
      // The banner follows the "listening" log line on stdout; the curl data line ends it.
      await herald.waitForLine((line) => line.trimStart().startsWith("-d '"));
      const text = herald.stdout.filter((line) => !line.startsWith('{')).join('\n');

      const channel = /subscribe to (\S+?)[,\s]/.exec(text)?.[1] ?? /"channel":"([^"]+)"/.exec(text)?.[1];
      expect(channel).toMatch(/^merchant:/);
      const tokenLine = text.split('\n').find((line) => /^\s+eyJ[\w-]+\.[\w-]+\.[\w-]+\s*$/.test(line));
      expect(tokenLine).toBeDefined();
      const token = tokenLine!.trim();

      const client = await TestClient.open(herald.wsUrl, { token, protocols: 'v1.json', tokenInQuery: true });
      expect((await client.subscribe(channel!)).type).toBe('subscribed');
      // The token grants that channel only.
      expect((await client.subscribe('merchant:someone_else')).error?.type).toBe('/problems/forbidden');

      // The curl example, run as printed.
      const curlStart = text.indexOf('curl ');
      const curlEnd = text.indexOf("}'", curlStart);
      expect(curlStart).toBeGreaterThan(-1);
      expect(curlEnd).toBeGreaterThan(curlStart);
      const command = text.slice(curlStart, curlEnd + 2);
      expect(command).toContain(herald.url);
      const { stdout } = await execFileAsync('/bin/sh', ['-c', command]);
      const answer = JSON.parse(stdout) as { id: string; channels: string[]; duplicate: boolean };
      expect(answer.channels).toContain(channel);
      expect(answer.duplicate).toBe(false);

      const [event] = await client.waitForEvents(1, channel);
      expect(event).toMatchObject({ type: 'payment.created', id: answer.id, channel });
      await client.close();

      // A token signed with some other secret is refused: the secret was generated.
      await expect(TestClient.open(herald.wsUrl, { token: clientToken({ channels: [channel!] }) })).rejects.toMatchObject({ status: 401 });
    } finally {
      await herald.stop();
    }
  });

  it('prints no generated token when JWT_SECRET is set', async () => {
    const herald = await startHerald();
    try {
      await herald.stop();
      expect(herald.stdout.join('\n')).not.toMatch(/Client token/);
    } finally {
      await herald.stop();
    }
  });
});

// Each case is a short-lived process: they run side by side.
describe.concurrent('configuration is validated at start', () => {
  const bad: Array<[string, string]> = [
    ['PORT', 'abc'],
    ['WEBSOCKET_PING_INTERVAL', '10'],
    ['WEBSOCKET_READ_TIMEOUT', '-1s'],
    ['MAX_BUFFERED_BYTES', 'lots'],
    ['JWT_ALGORITHMS', 'none'],
    ['LOG_LEVEL', 'loud'],
    ['MAX_CONNECTIONS', 'many'],
    ['MAX_CONNECTIONS_PER_USER', '-3'],
    ['MAX_SUBSCRIPTIONS_PER_CONNECTION', '0'],
    ['HISTORY_SIZE', 'all'],
    ['HISTORY_TTL', '10 minutes'],
    ['SHUTDOWN_TIMEOUT', '0'],
    ['JWT_PUBLIC_KEY', 'not a pem'],
  ];

  for (const [name, value] of bad) {
    it(`${name}=${value} stops the process: non-zero exit, one line on stderr naming ${name}`, async ({ expect }) => {
      const env: Record<string, string> = { JWT_SECRET: 'config-test-secret-0123456789abcdef', [name]: value };
      if (name === 'JWT_PUBLIC_KEY') delete env.JWT_SECRET;
      const result = await runHerald(['start'], env);
      expect(result.signal).toBeNull();
      expect(result.code).not.toBe(0);
      const lines = result.stderr.split('\n').filter((line) => line.trim().length > 0);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toContain(name);
      expect(result.stdout).not.toContain('herald listening');
    });
  }

  it('a combination that cannot work (read timeout not longer than the ping interval) is refused the same way', async ({ expect }) => {
    const result = await runHerald(['start'], { JWT_SECRET: 'config-test-secret-0123456789abcdef', WEBSOCKET_PING_INTERVAL: '10s', WEBSOCKET_READ_TIMEOUT: '5s' });
    expect(result.code).not.toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.trim().length > 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WEBSOCKET_READ_TIMEOUT|WEBSOCKET_PING_INTERVAL/);
  });
});

describe('durations accept ms, s, m and h', () => {
  for (const [ping, read, pingMs, readMs] of [
    ['250ms', '1m', 250, 60_000],
    ['2s', '1h', 2_000, 3_600_000],
  ] as const) {
    it(`WEBSOCKET_PING_INTERVAL=${ping} and WEBSOCKET_READ_TIMEOUT=${read}`, async () => {
      const herald = await startHerald({
        env: { WEBSOCKET_PING_INTERVAL: ping, WEBSOCKET_READ_TIMEOUT: read, WEBSOCKET_WRITE_TIMEOUT: '1h', HISTORY_TTL: '1h', SHUTDOWN_DRAIN_PERIOD: '100ms', SHUTDOWN_TIMEOUT: '1m' },
      });
      try {
        const client = await TestClient.open(herald.wsUrl, { token: clientToken() });
        expect(client.frames[0]!.data).toMatchObject({ pingInterval: pingMs, readTimeout: readMs });
        await client.close();
      } finally {
        await herald.stop();
      }
    });
  }
});
