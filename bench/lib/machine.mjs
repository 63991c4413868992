/** The machine a result was measured on. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machine() {
  let nofile = null;
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    nofile = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? NaN);
  } catch {
    // not Linux
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    openFilesPerProcess: nofile,
  };
}
