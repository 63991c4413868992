/**
 * infra/docker/Dockerfile and .dockerignore, read as text: there is no Docker engine
 * here (nor in CI) to build the image, so these check what the image is made of.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/helm.js';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions, with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let current: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (current === undefined && (line === '' || line.startsWith('#'))) return;
    if (current !== undefined && line.startsWith('#')) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1) : line;
    current = current ? { text: `${current.text} ${body}`, line: current.line } : { text: body, line: index + 1 };
    if (!continued) {
      const match = /^(\S+)\s*(.*)$/.exec(current.text.trim())!;
      result.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: current.line });
      current = undefined;
    }
  });
  return result;
}

const dockerfile = readFileSync(join(repoRoot, 'infra/docker/Dockerfile'), 'utf8');
const all = instructions(dockerfile);
/** Global ARG defaults (before the first FROM), to resolve FROM ${NODE_IMAGE}. */
const globalArgs = new Map<string, string>();
for (const instruction of all) {
  if (instruction.keyword === 'FROM') break;
  if (instruction.keyword === 'ARG') {
    const [name, value] = instruction.args.split('=');
    if (value !== undefined) globalArgs.set(name!, value);
  }
}
const expand = (text: string): string => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => globalArgs.get(a ?? b) ?? `\${${a ?? b}}`);

interface Stage {
  from: string;
  name: string | undefined;
  body: Instruction[];
}
const stages: Stage[] = [];
for (const instruction of all) {
  if (instruction.keyword === 'FROM') {
    const [image, as, name] = instruction.args.split(/\s+/);
    stages.push({ from: expand(image!), name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
  } else if (stages.length > 0) stages.at(-1)!.body.push(instruction);
}
const final = stages.at(-1)!;
const build = stages[0]!;
const finalOf = (keyword: string): Instruction[] => final.body.filter((i) => i.keyword === keyword);

describe('infra/docker/Dockerfile', () => {
  it('builds in one stage and runs in another, both on Node 24 slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:24-(bookworm-)?slim$/);
    expect(build.name).toBeTruthy();
  });

  it('builds with the pnpm of package.json#packageManager and deploys production dependencies only', () => {
    const pinned = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string }).packageManager.replace(/^pnpm@/, '');
    const pnpmArg = all.find((i) => i.keyword === 'ARG' && i.args.startsWith('PNPM_VERSION='));
    expect(pnpmArg?.args).toBe(`PNPM_VERSION=${pinned}`);
    const runs = build.body.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /npm install --global .*"?pnpm@\$\{PNPM_VERSION\}"?/.test(r) || /corepack (enable|prepare)/.test(r))).toBe(true);
    expect(runs.some((r) => /pnpm install .*--frozen-lockfile/.test(r))).toBe(true);
    expect(runs.some((r) => /pnpm run build|pnpm -r( run)? build|tsc -b/.test(r))).toBe(true);
    const deploy = runs.find((r) => /\bdeploy\b/.test(r));
    expect(deploy).toMatch(/pnpm --filter @herald\/herald .*deploy --prod/);
    // A legacy deploy would keep optional peers (vitest) in the image.
    expect(deploy).not.toMatch(/--legacy/);
    expect(deploy).toMatch(/inject-workspace-packages=true/);
  });

  it('copies only the deployed CLI into the final image: no sources, no workspace node_modules', () => {
    const copies = finalOf('COPY');
    expect(copies).toHaveLength(1);
    expect(copies[0]!.args).toMatch(new RegExp(`^--from=${build.name} .*/deploy /app/services/herald$`));
    expect(final.body.filter((i) => i.keyword === 'ADD')).toEqual([]);
    // Nothing is installed in the final stage: what is there is what the deploy chose.
    expect(finalOf('RUN')).toEqual([]);
  });

  it('runs as a non-root user, by number', () => {
    const users = finalOf('USER');
    expect(users).toHaveLength(1);
    const [user, group] = users[0]!.args.split(':');
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    if (group !== undefined) expect(Number(group)).toBeGreaterThan(0);
    // The chart's runAsUser is the same user.
    const values = readFileSync(join(repoRoot, 'infra/helm/herald/values.yaml'), 'utf8');
    expect(values).toMatch(new RegExp(`runAsUser: ${user}\\b`));
    // The USER comes after every instruction that needs root.
    const last = final.body.at(-1)!;
    expect(final.body.indexOf(users[0]!)).toBeGreaterThan(final.body.findIndex((i) => i.keyword === 'COPY'));
    expect(['CMD', 'ENTRYPOINT', 'EXPOSE', 'STOPSIGNAL']).toContain(last.keyword);
  });

  it('starts the herald CLI, `edge` unless told `ingest`', () => {
    expect(finalOf('ENTRYPOINT').map((i) => JSON.parse(i.args))).toEqual([['node', '/app/services/herald/dist/main.js']]);
    expect(finalOf('CMD').map((i) => JSON.parse(i.args))).toEqual([['edge']]);
    expect(finalOf('EXPOSE').map((i) => i.args)).toEqual(['8080 8081']);
  });

  it('has no HEALTHCHECK (Kubernetes probes do that) and carries OCI labels', () => {
    expect(all.filter((i) => i.keyword === 'HEALTHCHECK')).toEqual([]);
    const labels = finalOf('LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'created', 'licenses', 'base.name']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
  });

  it('sets NODE_ENV=production and leaves SIGTERM to Node', () => {
    expect(finalOf('ENV').map((i) => i.args)).toContain('NODE_ENV=production');
    expect(finalOf('STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  /** Docker's rule: a pattern matches a path or one of its parent directories. */
  const regexes = patterns.map((pattern) => {
    const body = pattern
      .replace(/^\//, '')
      .replace(/[.+^$()|[\]{}]/g, '\\$&')
      .replace(/\*\*\//g, '@@ANY_DIRS@@')
      .replace(/\*\*/g, '.*')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')
      .replaceAll('@@ANY_DIRS@@', '(.*/)?');
    return new RegExp(`^${body}(/.*)?$`);
  });
  const ignored = (path: string): boolean => regexes.some((regex) => regex.test(path));

  it('has no negated patterns (the matcher here does not implement them)', () => {
    expect(patterns.filter((p) => p.startsWith('!'))).toEqual([]);
  });

  it('keeps dependencies, build output, git and test output out of the context', () => {
    for (const path of [
      'node_modules/.pnpm/x/index.js',
      'packages/runtime/node_modules/pino/index.js',
      'packages/runtime/dist/index.js',
      'services/herald/dist/main.js',
      'packages/runtime/tsconfig.tsbuildinfo',
      '.git/HEAD',
      'coverage/index.html',
      '.tmp/run/log',
      'bench/results/run.json',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });

  it('keeps everything the build needs in the context', () => {
    const workspace = readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
    expect(workspace).toMatch(/packages\/\*/);
    for (const path of [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      'tsconfig.json',
      'tsconfig.base.json',
      'packages/runtime/package.json',
      'packages/runtime/src/config.ts',
      'packages/runtime/tsconfig.json',
      'services/herald/package.json',
      'services/herald/src/main.ts',
      'services/edge/src/index.ts',
      // Workspace members: the frozen lockfile install needs their package.json.
      'test/package.json',
      'bench/package.json',
    ]) {
      expect(ignored(path), path).toBe(false);
    }
  });
});
