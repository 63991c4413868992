/** The docs that are generated from code are up to date (config tables, Grafana dashboard). */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('generated documentation', () => {
  it('has configuration tables matching the config schema', () => {
    const result = spawnSync(process.execPath, ['scripts/config-docs.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('has a Grafana dashboard matching its generator', () => {
    const before = readFileSync(`${root}/infra/grafana/herald-dashboard.json`, 'utf8');
    execFileSync(process.execPath, ['infra/grafana/generate.mjs'], { cwd: root });
    expect(readFileSync(`${root}/infra/grafana/herald-dashboard.json`, 'utf8')).toBe(before);
  });
});
