/**
 * The log scan every Herald process gets when a test stops it (support/herald.ts):
 * it must catch a leaked token or key, in every form a log line may hold it, and not
 * cry wolf on the `herald start` banner, which prints a token on purpose.
 */
import { describe, expect, it } from 'vitest';
import { TEST_SECRET, startHerald } from './herald.js';
import { describeLeaks, logLines, scanLogs, secretsOf } from './log-scan.js';
import { clientToken } from './tokens.js';

const env = {
  JWT_SECRET: TEST_SECRET,
  INGEST_API_KEYS: 'ingest-key-aaaaaaaa, ingest-key-b/+=?&bbbb,k1',
  ADMIN_API_KEYS: 'admin-key-cccccccc',
  REDIS_URL: 'redis://:redis%2Fpass-dddd@127.0.0.1:6379/0',
};

const scan = (stdout: string[], stderr: string[] = []) => scanLogs(logLines(stdout, stderr), secretsOf(env));

describe('secretsOf', () => {
  it('takes every secret variable, each key of a list, the password of REDIS_URL, and skips values too short to look for', () => {
    expect(secretsOf(env)).toEqual([
      { name: 'JWT_SECRET', value: TEST_SECRET },
      { name: 'INGEST_API_KEYS[0]', value: 'ingest-key-aaaaaaaa' },
      { name: 'INGEST_API_KEYS[1]', value: 'ingest-key-b/+=?&bbbb' },
      { name: 'ADMIN_API_KEYS[0]', value: 'admin-key-cccccccc' },
      { name: 'REDIS_URL password', value: 'redis/pass-dddd' },
    ]);
    expect(secretsOf({ REDIS_PASSWORD: 'cluster-password', PATH: '/usr/bin' })).toEqual([{ name: 'REDIS_PASSWORD', value: 'cluster-password' }]);
  });
});

describe('scanLogs', () => {
  it('finds nothing in clean log records', () => {
    expect(scan(['{"level":"info","msg":"herald listening","port":8080}', '{"level":"warn","msg":"subscribe failed","channel":"merchant:m_1"}'])).toEqual([]);
  });

  it('catches a JWT anywhere in a record, signed or not', () => {
    const token = clientToken({ channels: ['merchant:m_1'] });
    const leaks = scan([
      '{"msg":"ok"}',
      JSON.stringify({ msg: 'request', url: `/v1/ws?access_token=${token}` }),
      JSON.stringify({ msg: 'x', header: `Bearer ${token.split('.').slice(0, 2).join('.')}.` }),
    ]);
    expect(leaks.map((leak) => [leak.line, leak.what])).toEqual([
      [2, 'JWT'],
      [3, 'JWT'],
    ]);
    expect(leaks[0]!.excerpt).toContain('access_token=<JWT>');
    expect(describeLeaks('edge', leaks)).not.toContain(token);
  });

  it('catches each secret as written, JSON-escaped and URL-encoded, and names it without printing it', () => {
    const leaks = scan([
      JSON.stringify({ msg: 'config', secret: TEST_SECRET }),
      `{"msg":"auth","key":"ingest-key-b/+=?&bbbb"}`,
      JSON.stringify({ msg: 'query', url: `/v1/events?key=${encodeURIComponent('ingest-key-b/+=?&bbbb')}` }),
      JSON.stringify({ msg: 'redis', err: 'NOAUTH redis/pass-dddd' }),
      JSON.stringify({ msg: 'admin', key: 'admin-key-cccccccc' }),
    ]);
    expect(leaks.map((leak) => [leak.line, leak.what])).toEqual([
      [1, 'JWT_SECRET'],
      [2, 'INGEST_API_KEYS[1]'],
      [3, 'INGEST_API_KEYS[1]'],
      [4, 'REDIS_URL password'],
      [5, 'ADMIN_API_KEYS[0]'],
    ]);
    const text = describeLeaks('ingest', leaks);
    for (const secret of secretsOf(env)) expect(text).not.toContain(secret.value);
  });

  it('reads every stderr line, but only JSON records on stdout (the start banner prints a token on purpose)', () => {
    const token = clientToken();
    expect(scan(['Client token (sub demo-user):', `  ${token}`])).toEqual([]);
    expect(scan([], ['herald: invalid configuration: ', `JWT_SECRET is ${TEST_SECRET}\n`]).map((leak) => [leak.stream, leak.what])).toEqual([['stderr', 'JWT_SECRET']]);
  });
});

it('a real process whose log holds a key fails its stop(), naming the leak', async () => {
  // NODE_ID is in every log record: a node named like one of its API keys leaks it.
  const key = `leaky-key-${process.pid}`;
  const herald = await startHerald({ env: { NODE_ID: key, INGEST_API_KEYS: key } });
  expect(herald.leaks().length).toBeGreaterThan(0);
  await expect(herald.stop()).rejects.toThrow(/credential\(s\) in the logs[\s\S]*stdout:\d+ INGEST_API_KEYS\[0\]: .*"node":"<INGEST_API_KEYS\[0\]>"/);
  expect(herald.child.exitCode ?? herald.child.signalCode).not.toBeNull();
});
