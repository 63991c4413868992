/**
 * The operator commands as real processes: `herald publish` fed on stdin, and
 * `herald tail` kept running while a test watches its output lines. Every process
 * started here is killed when the test worker exits, even after a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { CLI, type Exit } from '../support/herald.js';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface Finished extends Exit {
  stdout: string;
  stderr: string;
}

const BASE_ENV = (): Record<string, string> => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' });

/** Runs `herald <args>` (or a shell command line) to completion, with `stdin` as its input. */
export async function runCli(args: string[] | { shell: string }, env: Record<string, string>, options: { stdin?: string; timeoutMs?: number } = {}): Promise<Finished> {
  const child = Array.isArray(args)
    ? spawn(process.execPath, [CLI, ...args], { env: { ...BASE_ENV(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('/bin/sh', ['-c', args.shell], { env: { ...BASE_ENV(), ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  running.delete(child);
  return { code, signal, stdout, stderr };
}

export interface Tail {
  /** Complete stdout lines so far. */
  readonly lines: string[];
  stderr(): string;
  /** Resolves once `count` stdout lines have arrived. */
  waitForLines(count: number, timeoutMs?: number): Promise<string[]>;
  /** Resolves once stderr contains `text`. */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (to the process group: a shell line runs node under sh) and resolves with the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  readonly exited: Promise<Exit>;
}

/** Starts `herald tail <args>` (or a shell command line that runs it) with stdout piped: JSON output. */
export function startTail(args: string[] | { shell: string }, env: Record<string, string>): Tail {
  const child = Array.isArray(args)
    ? spawn(process.execPath, [CLI, 'tail', ...args], { env: { ...BASE_ENV(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn('/bin/sh', ['-c', args.shell], { env: { ...BASE_ENV(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  const exited = once(child, 'close').then(([code, signal]) => {
    running.delete(child);
    notify();
    return { code, signal } as Exit;
  });
  const until = (done: () => boolean, what: () => string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what()} within ${timeoutMs} ms; stdout: ${lines.join('\n')}; stderr: ${stderr}`));
      }, timeoutMs);
      const check = () => {
        if (!done()) {
          if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`herald tail exited (${child.exitCode ?? child.signalCode}) before ${what()}; stderr: ${stderr}`));
          }
          return;
        }
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return {
    lines,
    stderr: () => stderr,
    async waitForLines(count, timeoutMs = 10_000) {
      await until(() => lines.length >= count, () => `${count} lines not seen`, timeoutMs);
      return lines.slice(0, count);
    },
    waitForStderr(text, timeoutMs = 10_000) {
      const matches = () => (typeof text === 'string' ? stderr.includes(text) : text.test(stderr));
      return until(matches, () => `stderr ${String(text)} not seen`, timeoutMs);
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, signal);
      return exited;
    },
    exited,
  };
}

/** The events of a tail's JSON output. */
export function envelopes(lines: readonly string[]): Array<{ type: string; id: string; channel: string; seq: string; data: Record<string, unknown> }> {
  return lines.map((line) => JSON.parse(line) as { type: string; id: string; channel: string; seq: string; data: Record<string, unknown> });
}

/** A payment.created event for `merchant`, as one NDJSON line. */
export function paymentLine(id: string, merchant: string, amount = 100): string {
  return JSON.stringify({ type: 'payment.created', id, data: { payment_id: `pay_${id}`, order_id: `ord_${id}`, merchant_id: merchant, amount, currency: 'EUR', status: 'pending' } });
}
