/**
 * What each entry loads, as a bundler sees it (esbuild, both platforms): the JSON
 * entries never reach the protobuf runtime or Herald's protobuf codec; the protobuf
 * entries do. A static or dynamic import that breaks this fails here.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PROTOBUF_INPUT = /node_modules[\\/]@bufbuild[\\/]|protocol[\\/](dist|src)[\\/](protobuf|gen)[\\/]/;

async function inputsOf(entry: string, platform: 'browser' | 'node'): Promise<string[]> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform,
    external: ['ws'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

describe('entries', () => {
  it.each([
    ['index.ts', 'node'],
    ['browser.ts', 'browser'],
  ] as const)('%s (JSON) bundles no protobuf code', async (entry, platform) => {
    const inputs = await inputsOf(`./${entry}`, platform);
    expect(inputs.some((file) => file.endsWith('client.ts'))).toBe(true);
    expect(inputs.filter((file) => PROTOBUF_INPUT.test(file))).toEqual([]);
  });

  it.each([
    ['protobuf.ts', 'node'],
    ['protobuf-browser.ts', 'browser'],
  ] as const)('%s bundles the protobuf codec', async (entry, platform) => {
    const inputs = await inputsOf(`./${entry}`, platform);
    expect(inputs.some((file) => /@bufbuild[\\/]protobuf/.test(file))).toBe(true);
    expect(inputs.some((file) => /codec-protobuf\.ts$/.test(file))).toBe(true);
  });
});
