/**
 * LOG_FORMAT: `herald start` on a terminal logs readable lines (pino-pretty), JSON
 * records when stdout is a pipe; `json` and `pretty` force either; tokens stay redacted
 * in both.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, TEST_SECRET } from '../support/herald.js';

/** Runs `herald start` until its "herald listening" line, then SIGTERM; resolves with its stdout. */
function startOutput(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, SHUTDOWN_DRAIN_PERIOD: '100ms', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "herald listening" within 15 s: ${out}`));
    }, 15_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('herald listening')) child.kill('SIGTERM');
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

describe('LOG_FORMAT', () => {
  it('JSON on a pipe by default; pretty when forced', async () => {
    const json = await startOutput(process.execPath, [CLI, 'start'], {});
    const listening = json.split('\n').find((line) => line.includes('herald listening'))!;
    expect(JSON.parse(listening)).toMatchObject({ level: 'info', msg: 'herald listening' });

    const pretty = await startOutput(process.execPath, [CLI, 'start'], { LOG_FORMAT: 'pretty' });
    const line = pretty.split('\n').find((l) => l.includes('herald listening'))!;
    expect(line.trimStart().startsWith('{')).toBe(false);
    expect(line).toMatch(/\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*herald listening/);
  });

  it.skipIf(!hasScript)('pretty on a terminal by default, JSON there when forced', async () => {
    // `script` gives the process a pseudo-terminal as stdout.
    const onTerminal = await startOutput('script', ['-qfec', `${process.execPath} ${CLI} start`, '/dev/null'], {});
    const line = onTerminal.split(/\r?\n/).find((l) => l.includes('herald listening'))!;
    expect(line.trimStart().startsWith('{')).toBe(false);
    expect(line).toMatch(/INFO.*herald listening/);

    const forced = await startOutput('script', ['-qfec', `${process.execPath} ${CLI} start`, '/dev/null'], { LOG_FORMAT: 'json' });
    expect(forced.split(/\r?\n/).find((l) => l.includes('herald listening'))!.trimStart().startsWith('{')).toBe(true);
  });
});
