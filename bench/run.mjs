#!/usr/bin/env node
/**
 * `pnpm bench <scenario> [options]`, `pnpm bench all`, `pnpm bench report`.
 *
 * Scenarios: fanout, channels, latency, idle, connect, ingest (one file each under
 * scenarios/), and soak (by name only: not in `all`, it runs for minutes). Each run writes bench/results/<scenario>.json and its SVG charts, then
 * regenerates docs/benchmarks.md from every result file present.
 *
 * Options:
 *   --quick               a short run (smaller sizes, shorter windows): a smoke test,
 *                         written to results/<scenario>-quick.json
 *   --systems a,b         herald, raw, sio (default: all three)
 *   --sizes 1000,10000    connection counts, where the scenario has them
 *   --batch 1,10          events per publish request (fanout, channels)
 *   --topology memory|redis
 *   --measure <s>         measurement window in seconds
 *   --profile             run the servers with --cpu-prof (profiles in bench/results/profiles/)
 *   --window <ms>         closed loop: how far (in time at the current rate) the publisher may run ahead (fanout, channels; default 200)
 *   --concurrency <n>     publish requests in flight (fanout, channels)
 *   --herald-env K=V,...  extra environment for the Herald processes (experiments)
 *   --minutes <n>         soak: how long to run (default 30)
 *   --out <name>          result file name (default: the scenario name)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { progressFor } from './lib/fleet.mjs';
import { BENCH_DIR } from './lib/proc.mjs';
import { machine } from './lib/machine.mjs';
import { chartsFor } from './lib/charts.mjs';
import { writeReport } from './report.mjs';

const SCENARIOS = ['fanout', 'channels', 'latency', 'idle', 'connect', 'ingest'];
/** Run by name only: not part of `all`. */
const LONG_SCENARIOS = ['soak'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  allowNegative: true,
  options: {
    quick: { type: 'boolean', default: false },
    systems: { type: 'string' },
    sizes: { type: 'string' },
    batch: { type: 'string' },
    topology: { type: 'string' },
    measure: { type: 'string' },
    profile: { type: 'boolean', default: false },
    compression: { type: 'boolean' },
    out: { type: 'string' },
    window: { type: 'string' },
    concurrency: { type: 'string' },
    'herald-env': { type: 'string' },
    minutes: { type: 'string' },
  },
});

const requested = positionals.length === 0 ? ['help'] : positionals;
if (requested[0] === 'help') {
  process.stdout.write(`Usage: pnpm bench <${[...SCENARIOS, ...LONG_SCENARIOS].join('|')}|all|report|sizing> [--quick] [--minutes n (soak)] [--systems herald,raw,sio] [--sizes ..] [--batch ..] [--topology memory|redis] [--measure s] [--profile]\n`);
  process.exit(0);
}
if (requested[0] === 'report') {
  writeReport();
  process.exit(0);
}
if (requested[0] === 'sizing') {
  await import('./sizing.mjs').then((sizing) => sizing.writeSizing());
  process.exit(0);
}
const scenarios = requested[0] === 'all' ? SCENARIOS : requested;
for (const name of scenarios) {
  if (!SCENARIOS.includes(name) && !LONG_SCENARIOS.includes(name)) {
    process.stderr.write(`bench: unknown scenario "${name}" (${[...SCENARIOS, ...LONG_SCENARIOS].join(', ')}, all, report)\n`);
    process.exit(2);
  }
}

const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const list = (text, map = (x) => x) => text.split(',').map((x) => map(x.trim())).filter((x) => x !== '');

let failed = false;
const runStarted = Date.now();
for (const [index, name] of scenarios.entries()) {
  const scenario = await import(`./scenarios/${name}.mjs`);
  const options = { ...scenario.defaults(values.quick) };
  if (values.systems) options.systems = list(values.systems);
  if (values.sizes) options.sizes = list(values.sizes, Number);
  if (values.batch) options.batch = list(values.batch, Number);
  if (values.topology) options.topology = values.topology;
  if (values.measure) options.measureMs = Number(values.measure) * 1000;
  if (values.compression !== undefined) options.compression = values.compression;
  if (values.window) options.windowMs = Number(values.window);
  if (values.concurrency) options.publishConcurrency = Number(values.concurrency);
  if (values.minutes) options.minutes = Number(values.minutes);
  // Extra Herald settings for an experiment, e.g. --herald-env WEBSOCKET_PING_INTERVAL=300s
  if (values['herald-env']) process.env.BENCH_HERALD_ENV = values['herald-env'];
  if (values.profile) {
    options.profileDir = join(resultsDir, 'profiles');
    mkdirSync(options.profileDir, { recursive: true });
  }
  const progress = progressFor(name, { index: index + 1, total: scenarios.length, started: runStarted });
  progress(`${scenario.description}`);
  const started = Date.now();
  try {
    const data = await scenario.run(options, progress);
    const { profileDir: _profileDir, ...recorded } = options;
    const result = {
      scenario: name,
      description: scenario.description,
      command: `pnpm bench ${process.argv.slice(2).join(' ')}`.trim(),
      quick: values.quick,
      date: new Date().toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine: machine(),
      options: recorded,
      ...data,
    };
    // A quick run never replaces the published result of a full run.
    const file = values.out ?? (values.quick ? `${name}-quick` : name);
    writeFileSync(join(resultsDir, `${file}.json`), `${JSON.stringify(result, null, 2)}\n`);
    for (const chart of chartsFor(result)) writeFileSync(join(resultsDir, `${file}${chart.suffix}.svg`), chart.svg);
    progress(`done in ${result.durationSeconds} s: bench/results/${file}.json`);
    // A scenario with a verdict (soak) is written either way, and fails the run.
    if (data.failed) failed = true;
  } catch (error) {
    failed = true;
    progress(`FAILED: ${error.stack ?? error}`);
  }
}
writeReport();
await import('./sizing.mjs').then((sizing) => sizing.writeSizing());
process.exit(failed ? 1 : 0);
