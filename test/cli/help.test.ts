/**
 * `herald --help` lists every command and the exit codes; `herald <command> --help`
 * (and `herald help <command>`) describes one and exits 0 without doing anything;
 * unknown commands and options, missing values and stray arguments are usage errors
 * (64, the command's usage on stderr, never a stack trace); `herald token` refuses what
 * would mint a useless token and prints nothing but the token on stdout.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runHerald } from '../support/herald.js';

describe('herald --help', () => {
  it('lists every command and the exit codes', async () => {
    const result = await runHerald(['--help'], {});
    expect(result.code).toBe(0);
    for (const command of ['start', 'edge', 'ingest', 'publish', 'tail', 'check', 'token', 'version']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(result.stdout).toMatch(/^Exit codes:\n {2}0 {3}ok\n {2}1 {3}.+\n {2}64 {2}usage error.+\n {2}78 {2}invalid configuration/m);
  });

  it.each([
    ['publish', /^Usage: herald publish --type <type> --data '<json>' \[--id <id>\]\n {7}herald publish < events\.ndjson\n[\s\S]*INGEST_URL[\s\S]*INGEST_API_KEY[\s\S]*Exit codes: 0/],
    ['tail', /^Usage: herald tail \[--since <seq>\] \[--output pretty\|json\] <channel>\.\.\.\n[\s\S]*EDGE_URL[\s\S]*HERALD_TOKEN[\s\S]*JWT_SECRET[\s\S]*Exit codes: 0/],
    ['check', /^Usage: herald check \[start\|edge\|ingest\]\.\.\.\n[\s\S]*Exit codes: 0 valid, 64 usage error, 78 invalid configuration/],
    ['token', /^Usage: herald token /],
    ['start', /^Usage: herald start\n/],
    ['edge', /^Usage: herald edge\n/],
    ['ingest', /^Usage: herald ingest\n/],
  ])('herald %s --help', async (command, usage) => {
    // No configuration at all: asking for help must not start, check or connect anything.
    for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const result = await runHerald(args, { PORT: '1' });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(usage);
      expect(result.stderr).toBe('');
    }
  });

  it('unknown commands and options exit 64 with the usage on stderr', async () => {
    const unknown = await runHerald(['frobnicate'], {});
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/^herald: unknown command "frobnicate"\n\nUsage: herald <command>/);
    const option = await runHerald(['token', '--frob'], { JWT_SECRET: 'x' });
    expect(option.code).toBe(64);
    expect(option.stderr).toMatch(/^herald token: Unknown option '--frob'/);
    expect(option.stderr).toContain('Usage: herald token ');
  });

  it.each([
    [['token', '--channel', 'x'], /Unknown option '--channel'/],
    [['token', '--sub'], /Option '--sub <value>' argument missing/],
    [['token', '--sub', 'alice', '--channels', 'merchant:m_1', 'extra'], /Unexpected argument 'extra'/],
    [['token', '--channels', 'merchant:m_1'], /--sub is required/],
    [['token', '--sub', 'alice'], /--channels is required/],
    [['token', '--sub', 'alice', '--channels', ''], /--channels is required/],
    [['token', '--sub', 'alice', '--channels', 'merchant:m 1'], /"merchant:m 1" is not a channel name/],
    [['token', '--sub', 'alice', '--channels', 'merchant:*:x'], /"merchant:\*:x" is not a channel name/],
    [['token', '--sub', 'alice', '--channels', 'merchant:'], /"merchant:" is not a channel name/],
    [['token', '--sub', 'alice', '--scope', 'superuser'], /unknown scope "superuser"/],
    [['token', '--sub', 'alice', '--channels', 'merchant:m_1', '--ttl', 'soon'], /--ttl must be a duration/],
    [['start', '--port', '9'], /Unknown option '--port'/],
    [['edge', 'now'], /Unexpected argument 'now'/],
    [['ingest', '--verbose'], /Unknown option '--verbose'/],
  ])('herald %j is a usage error: exit 64, the usage on stderr, no stack trace', async (args, message) => {
    const result = await runHerald(args, { JWT_SECRET: 'a-test-secret-of-enough-length-0123' });
    expect(result.code, result.stderr).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain(`Usage: herald ${args[0]}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('herald token prints the token alone on stdout, with the grants and scopes asked for', async () => {
    const client = await runHerald(['token', '--sub', 'alice', '--channels', 'merchant:m_1,merchant:m_2*,*', '--ttl', '10m'], { JWT_SECRET: 'a-test-secret-of-enough-length-0123' });
    expect(client.code, client.stderr).toBe(0);
    expect(client.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = JSON.parse(Buffer.from(client.stdout.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'alice', channels: ['merchant:m_1', 'merchant:m_2*', '*'] });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    const admin = await runHerald(['token', '--sub', 'ops', '--scope', 'admin events:publish'], { JWT_SECRET: 'a-test-secret-of-enough-length-0123' });
    expect(admin.code, admin.stderr).toBe(0);
    expect(JSON.parse(Buffer.from(admin.stdout.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub: 'ops', scope: 'admin events:publish' });
  });

  it('npm run -s herald -- token: stdout is the token alone (a current build is not rebuilt, and pnpm writes to stderr)', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'herald', '--', 'token', '--sub', 'alice', '--channels', 'merchant:m_1'], {
      cwd: root,
      env: { ...process.env, JWT_SECRET: 'a-test-secret-of-enough-length-0123' },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });
});
