/**
 * PROTOCOL.md section 13: `herald publish` (one event from flags, NDJSON on stdin in
 * batches) and `herald tail` (one event per line; JSON output is the envelope as the edge
 * sent it) against a real `herald start`; failures exit non-zero with the problem.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, startHerald, type HeraldProcess } from '../support/herald.js';
import { TestClient } from '../support/ws-client.js';
import { clientToken } from '../support/tokens.js';
import { envelopes, paymentLine, runCli, startTail } from './support.js';

const INGEST_KEY = 'cli-test-ingest-key-0123';

describe('herald publish and herald tail on herald start', () => {
  let herald: HeraldProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    herald = await startHerald({ env: { INGEST_API_KEYS: INGEST_KEY }, waitReady: true });
    env = { INGEST_URL: herald.url, INGEST_API_KEY: INGEST_KEY, EDGE_URL: `ws://127.0.0.1:${herald.port}` };
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('a single event and an NDJSON stream reach tail, each line as the edge sent it', async () => {
    const tail = startTail(['merchant:m_cli'], { ...env, JWT_SECRET: TEST_SECRET });
    try {
      await tail.waitForStderr('merchant:m_cli: subscribed');
      // A raw subscriber of the same channel: what the edge sends, byte for byte.
      const raw = await TestClient.open(herald.wsUrl, { token: clientToken({ channels: ['merchant:m_cli'] }) });
      await raw.subscribe('merchant:m_cli');

      const single = await runCli(['publish', '--type', 'payment.updated', '--id', 'cli_one', '--data', '{"payment_id":"pay_1","merchant_id":"m_cli","status":"paid"}'], env);
      expect(single.code, single.stderr).toBe(0);
      expect(JSON.parse(single.stdout)).toEqual({ id: 'cli_one', channels: ['merchant:m_cli', 'payment:pay_1'], duplicate: false });

      const ndjson = ['cli_a', 'cli_b', 'cli_c'].map((id, i) => paymentLine(id, 'm_cli', 100 + i)).join('\n');
      const stream = await runCli(['publish'], env, { stdin: `${ndjson}\n\n` });
      expect(stream.code, stream.stderr).toBe(0);
      const answers = stream.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string; duplicate: boolean; channels: string[] });
      expect(answers.map((a) => a.id)).toEqual(['cli_a', 'cli_b', 'cli_c']);
      expect(answers.every((a) => !a.duplicate && a.channels.includes('merchant:m_cli'))).toBe(true);

      const lines = await tail.waitForLines(4);
      const events = envelopes(lines);
      expect(events.map((e) => e.id)).toEqual(['cli_one', 'cli_a', 'cli_b', 'cli_c']);
      expect(events.every((e) => e.channel === 'merchant:m_cli')).toBe(true);
      expect(events[1]!.data).toMatchObject({ amount: 100, merchant_id: 'm_cli' });
      const sent = await raw.waitForEvents(4, 'merchant:m_cli');
      expect(lines).toEqual(sent.map((frame) => JSON.stringify(frame)));
      await raw.close();

      // Publishing the same ids again: accepted as duplicates, not delivered again.
      const again = await runCli(['publish'], env, { stdin: paymentLine('cli_a', 'm_cli') });
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ id: 'cli_a', duplicate: true });

      const exit = await tail.stop('SIGINT');
      expect(exit.code).toBe(0);
      expect(tail.lines).toHaveLength(4);
    } finally {
      await tail.stop('SIGKILL');
    }
  });

  it('pretty output: time, channel, seq, type, id and data on one line', async () => {
    const tail = startTail(['--output', 'pretty', 'merchant:m_pretty'], { ...env, HERALD_TOKEN: clientToken({ channels: ['merchant:m_pretty'] }) });
    try {
      await tail.waitForStderr('merchant:m_pretty: subscribed');
      const published = await runCli(['publish', '--type', 'payment.updated', '--id', 'pretty_1', '--data', '{"payment_id":"pay_p","merchant_id":"m_pretty","status":"paid"}'], env);
      expect(published.code, published.stderr).toBe(0);
      const [line] = await tail.waitForLines(1);
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}merchant:m_pretty {2}\S+ {2}payment\.updated {2}pretty_1 {2}\{"payment_id":"pay_p","merchant_id":"m_pretty","status":"paid"\}$/);
      expect((await tail.stop('SIGTERM')).code).toBe(0);
    } finally {
      await tail.stop('SIGKILL');
    }
  });

  it('--since resumes after a seq: only the later events are printed', async () => {
    const all = startTail(['merchant:m_since'], { ...env, JWT_SECRET: TEST_SECRET });
    let seqOfFirst: string;
    try {
      await all.waitForStderr('merchant:m_since: subscribed');
      const first = await runCli(['publish'], env, { stdin: [paymentLine('since_1', 'm_since'), paymentLine('since_2', 'm_since'), paymentLine('since_3', 'm_since')].join('\n') });
      expect(first.code, first.stderr).toBe(0);
      const events = envelopes(await all.waitForLines(3));
      expect(events.map((e) => e.id)).toEqual(['since_1', 'since_2', 'since_3']);
      seqOfFirst = events[0]!.seq;
    } finally {
      await all.stop();
    }
    const later = startTail([`--since=merchant:m_since=${seqOfFirst}`, 'merchant:m_since'], { ...env, JWT_SECRET: TEST_SECRET });
    try {
      await later.waitForStderr(`merchant:m_since: resumed after ${seqOfFirst}, 2 missed event(s) replayed`);
      expect(envelopes(await later.waitForLines(2)).map((e) => e.id)).toEqual(['since_2', 'since_3']);
    } finally {
      await later.stop();
    }
  });

  it('exits 1 naming each failure: a bad JSON line by number, a refused event by problem; the others are sent', async () => {
    const input = [paymentLine('ok_1', 'm_fail'), '{"type": "payment.created", oops}', '[1,2]', JSON.stringify({ type: 'payment.created', id: 'bad_1', data: { payment_id: 'p' } }), JSON.stringify({ type: 'no.such.type', data: {} }), paymentLine('ok_2', 'm_fail')].join('\n');
    const result = await runCli(['publish'], env, { stdin: input });
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['ok_1', 'ok_2']);
    const errors = result.stderr.trim().split('\n');
    expect(errors[0]).toMatch(/^herald publish: line 2: not JSON: /);
    expect(errors[1]).toBe('herald publish: line 3: not a JSON object (one event object per line)');
    expect(errors[2]).toMatch(/^herald publish: line 4, id bad_1: \/problems\/validation-failed \(422\): .*merchant_id/);
    expect(errors[3]).toMatch(/^herald publish: line 5: \/problems\/unknown-event-type \(422\): /);
    expect(errors[4]).toBe('herald publish: 4 of 6 events failed');

    const single = await runCli(['publish', '--type', 'payment.created', '--data', '{"payment_id":"p"}'], env);
    expect(single.code).toBe(1);
    expect(single.stdout).toBe('');
    expect(single.stderr).toMatch(/^herald publish: \/problems\/validation-failed \(422\): /);

    const refused = await runCli(['publish', '--type', 'payment.updated', '--data', '{"payment_id":"p","merchant_id":"m","status":"paid"}'], { ...env, INGEST_API_KEY: 'not-a-key' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\/problems\/unauthorized \(401\)/);

    const closedPort = await freePort();
    const unreachable = await runCli(['publish'], { ...env, INGEST_URL: `http://127.0.0.1:${closedPort}` }, { stdin: `${paymentLine('x', 'm')}\n${paymentLine('y', 'm')}` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`herald publish: lines 1-2 (2 events): unreachable: cannot reach http://127.0.0.1:${closedPort}/v1/events:batch: `);
    expect(unreachable.stderr).toContain('ECONNREFUSED');
  });

  it('batches of at most 500 events: 1,203 lines are three batches, every event accepted', async () => {
    const lines = Array.from({ length: 1203 }, (_, i) => paymentLine(`bulk_${i}`, 'm_bulk'));
    const result = await runCli(['publish'], env, { stdin: lines.join('\n'), timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const ids = result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(lines.map((_, i) => `bulk_${i}`));
  });

  it('usage errors exit 64 with one line and the usage', async () => {
    for (const [args, message] of [
      [['publish', '--type', 'payment.created'], '--type and --data go together'],
      [['publish', '--type', 'x', '--data', '[1]'], '--data must be a JSON object'],
      [['publish', '--nope'], "Unknown option '--nope'"],
      [['tail'], 'name at least one channel'],
      [['tail', 'bad channel!'], 'invalid channel name'],
      [['tail', '--output', 'xml', 'merchant:m'], '--output must be pretty or json'],
    ] as const) {
      const result = await runCli([...args], { ...env, JWT_SECRET: TEST_SECRET });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(64);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain(`Usage: herald ${args[0]}`);
    }
    for (const [args, variable, value, message] of [
      [['publish', '--type', 'x', '--data', '{}'], 'INGEST_URL', 'ftp://127.0.0.1/', 'INGEST_URL must be an http:// or https:// URL (got "ftp://127.0.0.1/")'],
      [['publish', '--type', 'x', '--data', '{}'], 'INGEST_URL', 'not a url', 'INGEST_URL must be an http:// or https:// URL (got "not a url")'],
      [['tail', 'merchant:m'], 'EDGE_URL', 'ftp://127.0.0.1/', 'EDGE_URL must be a ws:// or wss:// URL (got "ftp://127.0.0.1/")'],
      [['tail', 'merchant:m'], 'EDGE_URL', 'not a url', 'EDGE_URL must be a ws:// or wss:// URL (got "not a url")'],
    ] as const) {
      const result = await runCli([...args], { ...env, JWT_SECRET: TEST_SECRET, [variable]: value });
      expect(result.code, `${variable}=${value}: ${result.stderr}`).toBe(64);
      expect(result.stderr).toContain(message);
    }
    const noCredentials = await runCli(['tail', 'merchant:m'], { EDGE_URL: env.EDGE_URL! });
    expect(noCredentials.code).toBe(64);
    expect(noCredentials.stderr).toContain('HERALD_TOKEN (a client token) or JWT_SECRET (to mint one) must be set');
  });

  it('tail exits 1 when the token is refused or every channel is forbidden', async () => {
    const refused = startTail(['merchant:m_x'], { ...env, HERALD_TOKEN: clientToken({ channels: ['merchant:m_x'] }, {}, 'some-other-secret-0123456789') });
    const refusedExit = await refused.exited;
    expect(refusedExit.code).toBe(1);
    expect(refused.stderr()).toContain('connection closed for good');

    const forbidden = startTail(['merchant:m_y'], { ...env, HERALD_TOKEN: clientToken({ channels: ['merchant:m_other'] }) });
    const forbiddenExit = await forbidden.exited;
    expect(forbiddenExit.code).toBe(1);
    expect(forbidden.stderr()).toContain('merchant:m_y: /problems/forbidden');
  });
});

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
