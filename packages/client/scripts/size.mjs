#!/usr/bin/env node
/**
 * Bundles the browser entry (src/browser.ts) the way an application bundler would:
 * ESM, minified, browser platform. `ws` is marked external and the script fails if
 * anything imports it, so the number printed is the SDK's real cost in a browser
 * (including what it uses of @herald/protocol; build that package first).
 *
 *   node packages/client/scripts/size.mjs [--json]
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const entry = fileURLToPath(new URL('../src/browser.ts', import.meta.url));

const result = await build({
  entryPoints: [entry],
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

const offenders = Object.entries(result.metafile.inputs).flatMap(([file, input]) => [
  ...(/node_modules[\\/]ws[\\/]/.test(file) ? [file] : []),
  ...input.imports.filter((i) => i.path === 'ws' || i.path.startsWith('node:')).map((i) => `${file} -> ${i.path}`),
]);
if (offenders.length > 0) {
  console.error(`The browser bundle must not include ws or node: modules:\n  ${offenders.join('\n  ')}`);
  process.exit(1);
}

const code = result.outputFiles[0].contents;
const minified = code.byteLength;
const gzip = gzipSync(code, { level: 9 }).byteLength;
const inputs = Object.keys(result.metafile.inputs).map((file) => file.replace(/^.*?packages[\\/]/, ''));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ entry: 'src/browser.ts', minified, gzip, inputs }));
} else {
  const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
  console.log(`@herald/client browser bundle (esbuild, minified, ESM)`);
  console.log(`  minified: ${minified} B (${kib(minified)})`);
  console.log(`  gzip -9:  ${gzip} B (${kib(gzip)})`);
  console.log(`  inputs:   ${inputs.length} files, ws absent`);
}
