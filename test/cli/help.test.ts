/**
 * `herald --help` lists every command and the exit codes; `herald <command> --help`
 * (and `herald help <command>`) describes one and exits 0 without doing anything;
 * unknown commands and options are usage errors (2).
 */
import { describe, expect, it } from 'vitest';
import { runHerald } from '../support/herald.js';

describe('herald --help', () => {
  it('lists every command and the exit codes', async () => {
    const result = await runHerald(['--help'], {});
    expect(result.code).toBe(0);
    for (const command of ['start', 'edge', 'ingest', 'publish', 'tail', 'check', 'token', 'version']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(result.stdout).toMatch(/^Exit codes:\n {2}0 {3}ok\n {2}1 {3}.+\n {2}2 {3}usage error.+\n {2}78 {2}invalid configuration/m);
  });

  it.each([
    ['publish', /^Usage: herald publish --type <type> --data '<json>' \[--id <id>\]\n {7}herald publish < events\.ndjson\n[\s\S]*INGEST_URL[\s\S]*INGEST_API_KEY[\s\S]*Exit codes: 0/],
    ['tail', /^Usage: herald tail \[--since <seq>\] \[--output pretty\|json\] <channel>\.\.\.\n[\s\S]*EDGE_URL[\s\S]*HERALD_TOKEN[\s\S]*JWT_SECRET[\s\S]*Exit codes: 0/],
    ['check', /^Usage: herald check \[start\|edge\|ingest\]\.\.\.\n[\s\S]*Exit codes: 0 valid, 2 usage error, 78 invalid configuration/],
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

  it('unknown commands and options exit 2', async () => {
    const unknown = await runHerald(['frobnicate'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^herald: unknown command "frobnicate"\nUsage: herald <command>/);
    const option = await runHerald(['token', '--frob'], { JWT_SECRET: 'x' });
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^herald token: Unknown option '--frob'/);
  });
});
