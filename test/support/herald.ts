/**
 * Starts Herald as a real child process (`node services/herald/dist/main.js <mode>`) on
 * a free port (PORT=0, the bound port is read from the "herald listening" log line),
 * collects its output, and stops it by PID. Every process started here is killed
 * when the test worker exits, even after a failure.
 *
 * When a process is stopped, its log output is scanned for credentials (a JWT, or a
 * secret of its environment: log-scan.ts); `stop` rejects naming each leak, so the
 * test file that owns the process fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describeLeaks, logLines, scanLogs, secretsOf, type Leak } from './log-scan.js';

export const CLI = fileURLToPath(new URL('../../services/herald/dist/main.js', import.meta.url));
export const TEST_SECRET = 'herald-test-secret-0123456789abcdef';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HeraldProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** ws://127.0.0.1:<port>/v1/ws */
  readonly wsUrl: string;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exited: Promise<Exit>;
  /** Resolves with the first log record (parsed JSON line) matching `predicate`. */
  waitForLog(predicate: (record: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the first stdout line (log record or not) matching `predicate`. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Credentials found in the log output so far (log-scan.ts). */
  leaks(): Leak[];
  /**
   * Sends SIGTERM (or `signal`) and resolves when the process has exited and its output
   * is read; rejects when that output holds a credential.
   */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface StartOptions {
  mode?: 'start' | 'edge' | 'ingest';
  env?: Record<string, string | undefined>;
  /** Resolve as soon as the process is listening (default), or wait for /readyz. */
  waitReady?: boolean;
  timeoutMs?: number;
}

export async function startHerald(options: StartOptions = {}): Promise<HeraldProcess> {
  const mode = options.mode ?? 'start';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    HOST: '127.0.0.1',
    PORT: '0',
    INGEST_PORT: '0',
    LOG_LEVEL: 'info',
    JWT_SECRET: TEST_SECRET,
    SHUTDOWN_DRAIN_PERIOD: '200ms',
    SHUTDOWN_TIMEOUT: '5s',
  };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn(process.execPath, [CLI, mode], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(record: Record<string, unknown>) => void>();
  const lineListeners = new Set<(line: string) => void>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      stdout.push(line);
      for (const listener of lineListeners) listener(line);
      if (!line.startsWith('{')) continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const listener of listeners) listener(record);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = once(child, 'exit').then(([code, signal]) => {
    running.delete(child);
    return { code, signal } as Exit;
  });
  // After 'close' every byte of output has been read (it may follow 'exit').
  const outputClosed = once(child, 'close').then(() => {
    if (partial !== '') stdout.push(partial);
    partial = '';
  });
  const leaks = (): Leak[] => scanLogs(logLines(stdout, stderr), secretsOf(env));

  const waitForLog = (predicate: (record: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      for (const line of stdout) {
        if (!line.startsWith('{')) continue;
        try {
          const record = JSON.parse(line) as Record<string, unknown>;
          if (predicate(record)) return resolve(record);
        } catch {
          // not a log record
        }
      }
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`log line not seen within ${timeoutMs}ms; stderr: ${stderr.join('')}`));
      }, timeoutMs);
      const listener = (record: Record<string, unknown>) => {
        if (!predicate(record)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(record);
      };
      listeners.add(listener);
      void exited.then((exit) => {
        if (!listeners.has(listener)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        reject(new Error(`herald exited (${exit.code ?? exit.signal}) before the log line; stderr: ${stderr.join('')}`));
      });
    });

  const waitForLine = (predicate: (line: string) => boolean, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = stdout.find(predicate);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => {
        lineListeners.delete(listener);
        reject(new Error(`output line not seen within ${timeoutMs}ms; stderr: ${stderr.join('')}`));
      }, timeoutMs);
      const listener = (line: string) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        lineListeners.delete(listener);
        resolve(line);
      };
      lineListeners.add(listener);
      void exited.then((exit) => {
        if (!lineListeners.has(listener)) return;
        clearTimeout(timer);
        lineListeners.delete(listener);
        reject(new Error(`herald exited (${exit.code ?? exit.signal}) before the output line; stderr: ${stderr.join('')}`));
      });
    });

  const listening = await waitForLog((record) => record.msg === 'herald listening', options.timeoutMs ?? 15_000);
  const port = listening.port as number;
  const url = `http://127.0.0.1:${port}`;
  const herald: HeraldProcess = {
    child,
    pid: child.pid!,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    stdout,
    stderr,
    exited,
    waitForLog,
    waitForLine,
    leaks,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const exit = await exited;
      await outputClosed;
      const found = leaks();
      if (found.length > 0) throw new Error(describeLeaks(`herald ${mode} (pid ${child.pid})`, found));
      return exit;
    },
  };
  if (options.waitReady) await waitUntilReady(url, options.timeoutMs ?? 15_000);
  return herald;
}

/** Polls /readyz until 200: readiness has no event to await from outside. */
export async function waitUntilReady(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the CLI to completion (for start-up failures); resolves with its output. */
export async function runHerald(args: string[], env: Record<string, string>, timeoutMs = 10_000): Promise<Exit & { stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', INGEST_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  running.delete(child);
  return { code, signal, stdout, stderr };
}
