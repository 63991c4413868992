#!/usr/bin/env node
/**
 * Bundles the browser entries the way an application bundler would: ESM, minified,
 * browser platform. `ws` is marked external and the script fails if anything imports
 * it, so the numbers printed are the SDK's real cost in a browser (including what it
 * uses of @herald/protocol; build that package first).
 *
 * Two entries: `@herald/client` (JSON; it must not contain the protobuf runtime, and
 * the script fails if it does) and `@herald/client/protobuf` (JSON and protobuf).
 *
 *   node packages/client/scripts/size.mjs [--json]
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ENTRIES = [
  { name: '@herald/client', entry: 'src/browser.ts', protobuf: false },
  { name: '@herald/client/protobuf', entry: 'src/protobuf-browser.ts', protobuf: true },
];

/** Inputs that belong to the protobuf runtime or Herald's protobuf codec. */
const PROTOBUF_INPUT = /node_modules[\\/]@bufbuild[\\/]|protocol[\\/](dist|src)[\\/](protobuf|gen)[\\/]/;

async function measure({ name, entry, protobuf }) {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../${entry}`, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['ws'],
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  const files = Object.keys(result.metafile.inputs);
  const offenders = Object.entries(result.metafile.inputs).flatMap(([file, input]) => [
    ...(/node_modules[\\/]ws[\\/]/.test(file) ? [file] : []),
    ...input.imports.filter((i) => i.path === 'ws' || i.path.startsWith('node:')).map((i) => `${file} -> ${i.path}`),
  ]);
  if (offenders.length > 0) throw new Error(`${name}: the browser bundle must not include ws or node: modules:\n  ${offenders.join('\n  ')}`);
  const protobufInputs = files.filter((file) => PROTOBUF_INPUT.test(file));
  if (!protobuf && protobufInputs.length > 0) throw new Error(`${name}: the JSON bundle must not include the protobuf runtime:\n  ${protobufInputs.join('\n  ')}`);
  if (protobuf && protobufInputs.length === 0) throw new Error(`${name}: no protobuf input found; is the measurement still right?`);
  const code = result.outputFiles[0].contents;
  return {
    name,
    entry,
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    inputs: files.map((file) => file.replace(/^.*?packages[\\/]/, '')),
    protobufInputs: protobufInputs.length,
  };
}

let sizes;
try {
  sizes = [];
  for (const entry of ENTRIES) sizes.push(await measure(entry));
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

if (process.argv.includes('--json')) {
  // One line per entry; the first is the JSON entry, as before.
  for (const size of sizes) console.log(JSON.stringify(size));
} else {
  const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
  for (const size of sizes) {
    console.log(`${size.name} browser bundle (${size.entry}; esbuild, minified, ESM)`);
    console.log(`  minified: ${size.minified} B (${kib(size.minified)})`);
    console.log(`  gzip -9:  ${size.gzip} B (${kib(size.gzip)})`);
    console.log(`  inputs:   ${size.inputs.length} files, ws absent, ${size.protobufInputs ? `${size.protobufInputs} of them protobuf` : 'no protobuf runtime'}`);
  }
}
