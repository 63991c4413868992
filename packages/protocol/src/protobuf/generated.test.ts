/**
 * The generated code under src/gen is committed so the build never needs buf; these
 * tests fail when it no longer matches proto/ (someone edited the .proto and did not
 * run `pnpm --filter @herald/protocol generate`), and keep the protobuf runtime out
 * of the package's main entry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const binDir = join(packageDir, 'node_modules', '.bin');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('generated code', () => {
  it('is what buf generates from proto/ now, byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'herald-buf-'));
    try {
      // buf finds the local plugin protoc-gen-es on PATH, as under `pnpm exec`.
      execFileSync(join(binDir, 'buf'), ['generate', '--output', out], {
        cwd: packageDir,
        env: { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const fresh = join(out, 'src', 'gen');
      const committed = join(packageDir, 'src', 'gen');
      const names = (dir: string) => filesUnder(dir).map((path) => relative(dir, path)).sort();
      expect(names(committed), 'files under src/gen (run `pnpm --filter @herald/protocol generate`)').toEqual(names(fresh));
      for (const name of names(fresh)) {
        const stale = !readFileSync(join(fresh, name)).equals(readFileSync(join(committed, name)));
        expect(stale, `src/gen/${name} is stale: run \`pnpm --filter @herald/protocol generate\``).toBe(false);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('comes from the contract schema unchanged', () => {
    // shared/ sits beside the repository on developer machines and in CI.
    const contract = resolve(packageDir, '../../../shared/docs/websocket.v1.proto');
    if (!existsSync(contract)) return;
    expect(readFileSync(join(packageDir, 'proto/websocket/v1/websocket.proto'), 'utf8')).toBe(readFileSync(contract, 'utf8'));
  });
});

describe('the main entry', () => {
  it('never reaches the protobuf runtime or the generated code', () => {
    // Follows the relative imports of src/index.ts; JSON-only users and the browser
    // SDK bundle load exactly these files.
    const seen = new Set<string>();
    const pending = [join(packageDir, 'src', 'index.ts')];
    const offending: string[] = [];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        if (specifier!.startsWith('@bufbuild/') || /(^|\/)(gen|protobuf)\//.test(specifier!)) offending.push(`${relative(packageDir, file)} -> ${specifier}`);
        else if (specifier!.startsWith('.')) pending.push(resolve(dirname(file), specifier!.replace(/\.js$/, '.ts')));
      }
    }
    expect(seen.size).toBeGreaterThan(5);
    expect(offending).toEqual([]);
  });
});
