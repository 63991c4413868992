/**
 * The promises of this package about the rest of the repository: it is the only place
 * that imports ioredis, makes clients or asks whether a client is a Cluster, and the
 * edge never touches Redis at all (it talks to the Broker and Admission interfaces).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Product sources (not tests, not build output) under packages/ and services/. */
function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) files.push(relative(ROOT, path));
    }
  };
  for (const top of ['packages', 'services']) {
    for (const name of readdirSync(join(ROOT, top))) {
      const src = join(ROOT, top, name, 'src');
      if (statSync(join(ROOT, top, name)).isDirectory() && readdirSync(join(ROOT, top, name)).includes('src')) walk(src);
    }
  }
  return files;
}

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

describe('the Redis module boundaries', () => {
  const files = sources();

  it('finds the sources it checks', () => {
    expect(files).toContain('packages/redis/src/clients.ts');
    expect(files.some((file) => file.startsWith('services/edge/src/'))).toBe(true);
  });

  it('imports ioredis only in @herald/redis', () => {
    const outside = files.filter((file) => !file.startsWith('packages/redis/') && /from 'ioredis'/.test(read(file)));
    expect(outside).toEqual([]);
  });

  it('makes every ioredis client in @herald/redis', () => {
    const outside = files.filter((file) => !file.startsWith('packages/redis/') && /new (Redis|Cluster)\(/.test(read(file)));
    expect(outside).toEqual([]);
  });

  it('asks whether a client is a Cluster only in @herald/redis', () => {
    const outside = files.filter((file) => !file.startsWith('packages/redis/') && /instanceof Cluster\b/.test(read(file)));
    expect(outside).toEqual([]);
  });

  it('keeps ioredis and @herald/redis out of the edge', () => {
    const edge = files.filter((file) => file.startsWith('services/edge/') && /from '(ioredis|@herald\/redis)'/.test(read(file)));
    expect(edge).toEqual([]);
    const manifest = JSON.parse(read('services/edge/package.json')) as { dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('ioredis');
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@herald/redis');
  });
});
