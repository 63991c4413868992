#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (from `--cpu-prof`): self time per function and
 * inclusive time per function, as percentages of the sampled time, so a bench's
 * profile can be read in a terminal or pasted into docs/benchmarks.md.
 *
 *   node bench/profile-summary.mjs <file.cpuprofile> [--top 25] [--json]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

export function summarize(profile, top = 25) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfCount = new Map();
  for (const id of profile.samples) selfCount.set(id, (selfCount.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const name = (node) => {
    const f = node.callFrame;
    const fn = f.functionName || '(anonymous)';
    if (!f.url) return fn;
    const file = f.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/.*\/work\/main\//, '');
    return `${fn} ${file}:${f.lineNumber + 1}`;
  };
  const self = new Map();
  const inclusive = new Map();
  for (const [id, count] of selfCount) {
    const node = nodes.get(id);
    const key = name(node);
    self.set(key, (self.get(key) ?? 0) + count);
    // Inclusive: count each function once per sample even if recursive.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(nodes.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + count);
    }
  }
  const pct = (n) => Math.round((n / total) * 1000) / 10;
  const rank = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, n]) => ({ percent: pct(n), fn }));
  const idle = self.get('(idle)') ?? 0;
  return {
    samples: total,
    seconds: Math.round(((profile.endTime - profile.startTime) / 1e6) * 10) / 10,
    idlePercent: pct(idle),
    self: rank(self),
    inclusive: rank(inclusive).filter((r) => !['(root)', '(idle)', '(program)', '(garbage collector)'].includes(r.fn)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.on('error', () => process.exit(0)); // `| head`
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } } });
  for (const file of positionals) {
    const summary = summarize(JSON.parse(readFileSync(file, 'utf8')), Number(values.top));
    if (values.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      continue;
    }
    process.stdout.write(`${basename(file)}: ${summary.samples} samples over ${summary.seconds} s, idle ${summary.idlePercent}%\n  self:\n`);
    for (const row of summary.self) process.stdout.write(`    ${String(row.percent).padStart(5)}%  ${row.fn}\n`);
    process.stdout.write('  inclusive:\n');
    for (const row of summary.inclusive) process.stdout.write(`    ${String(row.percent).padStart(5)}%  ${row.fn}\n`);
  }
}
