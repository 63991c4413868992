/**
 * The Helm chart (infra/helm/herald) with a real Helm: `helm lint --strict` and
 * `helm template` for each scenario in infra/helm/herald/ci, every rendered object
 * validated (kubernetes-models for built-in kinds, a structural check for the Istio and
 * Prometheus CRDs), then what each object must say for Herald to run safely.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MESSAGE_TYPE_DOCUMENT_SCHEMA, MessageTypeRegistry } from '@herald/protocol/registry';
import {
  chartDir,
  ciValuesFiles,
  container,
  envOf,
  find,
  helm,
  helmBinary,
  labelsMatch,
  only,
  podSpec,
  render,
  resolveEnv,
  validateManifest,
  valuesFile,
  type Manifest,
} from '../support/helm.js';

const DEFAULT = `${chartDir}/ci/default-values.yaml`;
const scenario = (name: string): string => `${chartDir}/ci/${name}.yaml`;

beforeAll(() => {
  helmBinary(); // first run: npm pack + unzip, well within the hook timeout
}, 240_000);

describe('every scenario of infra/helm/herald/ci', () => {
  const files = ciValuesFiles();

  it('has the scenarios the chart promises', () => {
    expect(files.map((file) => basename(file, '.yaml'))).toEqual(
      expect.arrayContaining(['default-values', 'istio-on', 'redis-cluster', 'existing-secret', 'all-features']),
    );
  });

  it.each(files.map((file) => [basename(file), file]))('%s passes helm lint --strict', async (_name, file) => {
    const result = await helm(['lint', '--strict', chartDir, '--values', file]);
    expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.code).toBe(0);
  });

  it.each(files.map((file) => [basename(file), file]))('%s renders objects that validate', async (_name, file) => {
    const manifests = await render({ valuesFiles: [file] });
    expect(manifests.length).toBeGreaterThan(5);
    for (const manifest of manifests) await validateManifest(manifest);
    const kinds = new Set(manifests.map((m) => m.kind));
    for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget']) expect(kinds).toContain(kind);
    expect(find(manifests, 'Deployment')).toHaveLength(2);
    // No two objects of one kind share a name.
    const ids = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    // Every object of the release is in the release's namespace.
    for (const manifest of manifests) expect(manifest.metadata.namespace).toBe('payments');
  });
});

describe('the manifest validator', () => {
  const deployment = (containerPort: unknown): Manifest =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort }] }] } } },
    }) as Manifest;

  it('validates built-in kinds with kubernetes-models and rejects what the API server would', async () => {
    await expect(validateManifest(deployment(8080))).resolves.toEqual({ by: 'kubernetes-models' });
    await expect(validateManifest(deployment('8080'))).rejects.toThrow(/containerPort must be integer/);
    await expect(validateManifest({ ...deployment(8080), metadata: { name: 'Not_A_Name' } })).rejects.toThrow(/metadata\/name/);
  });

  it('checks the Istio and Prometheus CRDs structurally (their models are not installed)', async () => {
    const vs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'x' },
      spec: { hosts: ['a.example.com'], http: [{ route: [{ destination: { host: 'svc.ns.svc.cluster.local', port: { number: 80 } } }], timeout: '0s' }] },
    } as Manifest;
    await expect(validateManifest(vs)).resolves.toEqual({ by: 'structural' });
    const broken = structuredClone(vs) as any;
    broken.spec.http[0].timeout = '10 seconds';
    broken.spec.http[0].retry = {};
    broken.spec.http[0].route[0].destination.port.number = 0;
    const message = await validateManifest(broken).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(message).toContain('/spec/http/0/timeout: "10 seconds" does not match');
    expect(message).toContain('/spec/http/0: unknown field retry');
    expect(message).toContain('/spec/http/0/route/0/destination/port/number: must be >= 1');
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' }, spec: { selector: {}, endpoints: [] } } as Manifest;
    await expect(validateManifest(monitor)).rejects.toThrow(/endpoints: must have at least 1 items/);
    await expect(validateManifest({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } })).rejects.toThrow(/no model/);
  });
});

describe('the default install', () => {
  let manifests: Manifest[];
  let edge: Manifest;
  let ingest: Manifest;
  beforeAll(async () => {
    manifests = await render({ valuesFiles: [DEFAULT] });
    edge = only(manifests, 'Deployment', '-edge');
    ingest = only(manifests, 'Deployment', '-ingest');
  });

  it('runs the one image as `edge` and `ingest`, each on its port', () => {
    expect(container(edge).args).toEqual(['edge']);
    expect(container(ingest).args).toEqual(['ingest']);
    expect(container(edge).image).toBe(container(ingest).image);
    expect(container(edge).ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(container(ingest).ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
  });

  it('probes /healthz for liveness and /readyz for readiness', () => {
    for (const deployment of [edge, ingest]) {
      const c = container(deployment);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    }
  });

  it('replaces edge pods one at a time without lowering capacity', () => {
    const spec = (edge as any).spec;
    expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec.minReadySeconds).toBeGreaterThan(0);
    // The HPA owns the replica count: a `replicas` here would reset it on every upgrade.
    expect(spec.replicas).toBeUndefined();
  });

  it('names each node after its pod', () => {
    for (const deployment of [edge, ingest]) {
      expect(envOf(deployment).find((e) => e.name === 'NODE_ID')).toEqual({ name: 'NODE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    }
  });

  it('spreads edge pods over nodes', () => {
    const anti = podSpec(edge).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    expect(anti).toHaveLength(1);
    expect(anti[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(labelsMatch(anti[0].podAffinityTerm.labelSelector.matchLabels, (edge as any).spec.template.metadata.labels)).toBe(true);
    expect(labelsMatch(anti[0].podAffinityTerm.labelSelector.matchLabels, (ingest as any).spec.template.metadata.labels)).toBe(false);
  });

  it('sets replicas itself only when the HPA is off', async () => {
    const without = await render({ valuesFiles: [DEFAULT], set: ['edge.autoscaling.enabled=false', 'edge.replicaCount=4'] });
    expect(find(without, 'HorizontalPodAutoscaler')).toEqual([]);
    expect((only(without, 'Deployment', '-edge') as any).spec.replicas).toBe(4);
    expect((ingest as any).spec.replicas).toBe(2);
  });

  it('injects no service links, which could shadow a setting (a Service named `ingest` would set INGEST_PORT)', () => {
    for (const deployment of [edge, ingest]) expect(podSpec(deployment).enableServiceLinks).toBe(false);
  });

  it('requests resources', () => {
    for (const deployment of [edge, ingest]) {
      expect(container(deployment).resources.requests.cpu).toBeTruthy();
      expect(container(deployment).resources.requests.memory).toBeTruthy();
      expect(container(deployment).resources.limits.memory).toBeTruthy();
    }
  });

  it('runs as non-root, read-only, without capabilities or a service account token', () => {
    for (const deployment of [edge, ingest]) {
      const pod = podSpec(deployment);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(pod.automountServiceAccountToken).toBe(false);
      const sc = container(deployment).securityContext;
      expect(sc.runAsNonRoot).toBe(true);
      expect(sc.readOnlyRootFilesystem).toBe(true);
      expect(sc.allowPrivilegeEscalation).toBe(false);
      expect(sc.capabilities.drop).toEqual(['ALL']);
      expect(sc.capabilities.add).toBeUndefined();
      expect(sc.privileged).not.toBe(true);
      // The only writable place: an emptyDir on /tmp.
      expect(container(deployment).volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(pod.serviceAccountName).toBe(only(manifests, 'ServiceAccount').metadata.name);
    }
    expect((only(manifests, 'ServiceAccount') as any).automountServiceAccountToken).toBe(false);
  });

  it('keeps the JWT secret and the Redis URL in a Secret, never in the pod spec', () => {
    const secret = only(manifests, 'Secret') as any;
    expect(Object.keys(secret.data).sort()).toEqual(['JWT_SECRET', 'REDIS_URL']);
    for (const deployment of [edge, ingest]) {
      const env = envOf(deployment);
      for (const name of ['JWT_SECRET', 'REDIS_URL']) {
        const entry = env.find((e) => e.name === name)!;
        expect(entry.value).toBeUndefined();
        expect(entry.valueFrom?.secretKeyRef).toEqual({ name: secret.metadata.name, key: name });
        expect(resolveEnv(manifests, entry)).toBeTruthy();
      }
      // Pods restart when the Secret changes.
      expect((deployment as any).spec.template.metadata.annotations['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(resolveEnv(manifests, envOf(edge).find((e) => e.name === 'REDIS_URL')!)).toBe('redis://redis-master.redis.svc.cluster.local:6379');
  });

  it('exposes the edge on a Service and ingest on a ClusterIP Service only', () => {
    const edgeService = only(manifests, 'Service', '-edge') as any;
    const ingestService = only(manifests, 'Service', '-ingest') as any;
    expect(labelsMatch(edgeService.spec.selector, (edge as any).spec.template.metadata.labels)).toBe(true);
    expect(labelsMatch(edgeService.spec.selector, (ingest as any).spec.template.metadata.labels)).toBe(false);
    expect(labelsMatch(ingestService.spec.selector, (ingest as any).spec.template.metadata.labels)).toBe(true);
    expect(ingestService.spec.type).toBe('ClusterIP');
    for (const service of [edgeService, ingestService]) expect(service.spec.ports).toMatchObject([{ name: 'http', targetPort: 'http' }]);
  });

  it('autoscales the edge with an autoscaling/v2 HPA that scales down slowly', () => {
    const hpa = only(manifests, 'HorizontalPodAutoscaler') as any;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: edge.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
  });

  it('bounds voluntary disruptions of each component', () => {
    const pdbs = find(manifests, 'PodDisruptionBudget') as any[];
    expect(pdbs).toHaveLength(2);
    const edgePdb = pdbs.find((p) => labelsMatch(p.spec.selector.matchLabels, (edge as any).spec.template.metadata.labels));
    expect(edgePdb.spec.maxUnavailable).toBe(1);
    expect(pdbs.find((p) => labelsMatch(p.spec.selector.matchLabels, (ingest as any).spec.template.metadata.labels))).toBeDefined();
  });

  it('renders no optional integration unless asked', () => {
    for (const kind of ['VirtualService', 'DestinationRule', 'ServiceMonitor', 'NetworkPolicy', 'ConfigMap']) expect(find(manifests, kind)).toEqual([]);
  });

  it('tells the operator how to connect and publish (NOTES.txt)', async () => {
    const result = await helm(['install', 'herald', chartDir, '--namespace', 'payments', '--values', DEFAULT, '--dry-run=client']);
    expect(result.code).toBe(0);
    const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
    expect(notes).toMatch(/websocat -H "Authorization: Bearer \$TOKEN" ws:\/\/127\.0\.0\.1:8080\/v1\/ws/);
    expect(notes).toMatch(/wscat -c ws:\/\/127\.0\.0\.1:8080\/v1\/ws/);
    expect(notes).toMatch(/port-forward service\/herald-edge 8080:8080/);
    expect(notes).toMatch(/main\.js token --sub u1 --channels merchant:m_42/);
    expect(notes).toMatch(/curl -sS -X POST http:\/\/127\.0\.0\.1:8081\/v1\/events/);
    expect(notes).toMatch(/port-forward service\/herald-ingest 8081:8081/);
    // The NOTES' example event is one the ingest API accepts (PROTOCOL.md section 7).
    const body = JSON.parse(/-d '(\{.*\})'/.exec(notes)![1]!);
    expect(body.type).toBe('payment.created');
    expect(Object.keys(body.data)).toEqual(expect.arrayContaining(['payment_id', 'order_id', 'merchant_id', 'amount', 'currency', 'status']));
  });
});

describe('Istio', () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({ valuesFiles: [scenario('istio-on')] });
  });

  const fqdn = (service: Manifest): string => `${service.metadata.name}.payments.svc.cluster.local`;

  it('routes WebSocket upgrades and /v1/ws to the edge, with no route timeout', () => {
    const vs = only(manifests, 'VirtualService') as any;
    expect(vs.spec.hosts).toEqual(['ws.example.com']);
    expect(vs.spec.gateways).toEqual(['istio-system/public-gateway']);
    const route = vs.spec.http.find((r: any) => r.name === 'websocket');
    expect(route.match).toEqual([{ headers: { upgrade: { regex: '(?i)websocket' } } }, { uri: { exact: '/v1/ws' } }]);
    expect(new RegExp(route.match[0].headers.upgrade.regex.replace('(?i)', ''), 'i').test('WebSocket')).toBe(true);
    const edgeService = only(manifests, 'Service', '-edge') as any;
    expect(route.route).toEqual([{ destination: { host: fqdn(edgeService), port: { number: edgeService.spec.ports[0].port } } }]);
    expect(route.timeout).toBe('0s');
  });

  it('routes the ingest paths to ingest when exposed, before the WebSocket route', () => {
    const vs = only(manifests, 'VirtualService') as any;
    expect(vs.spec.http.map((r: any) => r.name)).toEqual(['ingest', 'websocket']);
    const ingestService = only(manifests, 'Service', '-ingest') as any;
    const route = vs.spec.http[0];
    expect(route.match).toEqual([{ uri: { exact: '/v1/events' } }, { uri: { exact: '/v1/events:batch' } }]);
    expect(route.route[0].destination).toEqual({ host: fqdn(ingestService), port: { number: ingestService.spec.ports[0].port } });
    expect(route.timeout).toBe('10s');
  });

  it('limits the connection pool to the edge and keeps WebSockets on HTTP/1.1', () => {
    const dr = only(manifests, 'DestinationRule') as any;
    expect(dr.spec.host).toBe(fqdn(only(manifests, 'Service', '-edge')));
    const pool = dr.spec.trafficPolicy.connectionPool;
    expect(pool.tcp.maxConnections).toBeGreaterThan(0);
    expect(pool.tcp.connectTimeout).toBe('5s');
    expect(pool.http.http1MaxPendingRequests).toBeGreaterThan(0);
    expect(pool.http.h2UpgradePolicy).toBe('DO_NOT_UPGRADE');
    expect(dr.spec.trafficPolicy.loadBalancer.simple).toBe('LEAST_REQUEST');
  });

  it('keeps the sidecar alive until the edge has drained', () => {
    const edge = only(manifests, 'Deployment', '-edge') as any;
    const config = JSON.parse(edge.spec.template.metadata.annotations['proxy.istio.io/config']);
    expect(config.terminationDrainDuration).toBe(`${edge.spec.template.spec.terminationGracePeriodSeconds}s`);
  });

  it('leaves ingest unrouted unless exposed', async () => {
    const vs = only(await render({ valuesFiles: [scenario('istio-on')], set: ['istio.ingest.exposed=false'] }), 'VirtualService') as any;
    expect(vs.spec.http.map((r: any) => r.name)).toEqual(['websocket']);
  });

  it('needs hosts', async () => {
    const result = await helm(['template', 'herald', chartDir, '--values', DEFAULT, '--set', 'istio.enabled=true']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('istio.enabled needs istio.hosts');
  });
});

describe('all features', () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({ valuesFiles: [scenario('all-features')] });
  });

  it('scrapes both services with a ServiceMonitor', () => {
    const monitor = only(manifests, 'ServiceMonitor') as any;
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels.release).toBe('kube-prometheus-stack');
    const services = find(manifests, 'Service') as any[];
    expect(services.filter((s) => labelsMatch(monitor.spec.selector.matchLabels, s.metadata.labels))).toHaveLength(2);
    for (const service of services) expect(service.spec.ports.map((p: any) => p.name)).toContain(monitor.spec.endpoints[0].port);
    expect(monitor.spec.endpoints[0].path).toBe('/metrics');
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['payments'] });
  });

  it('lets only producers and the monitoring namespace reach ingest', () => {
    const policy = only(manifests, 'NetworkPolicy') as any;
    const ingest = only(manifests, 'Deployment', '-ingest') as any;
    const edge = only(manifests, 'Deployment', '-edge') as any;
    expect(labelsMatch(policy.spec.podSelector.matchLabels, ingest.spec.template.metadata.labels)).toBe(true);
    expect(labelsMatch(policy.spec.podSelector.matchLabels, edge.spec.template.metadata.labels)).toBe(false);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const [producers, monitoring, extra] = policy.spec.ingress;
    expect(producers.from).toEqual([
      { podSelector: { matchLabels: { 'herald.io/producer': 'true' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments-core' } } },
    ]);
    expect(monitoring.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    expect(extra.from[0].podSelector.matchLabels).toEqual({ app: 'istio-ingressgateway' });
    for (const rule of policy.spec.ingress) expect(rule.ports).toEqual([{ port: container(ingest).ports[0].containerPort, protocol: 'TCP' }]);
  });

  it('limits producers to the release namespace when no namespace selector is given', async () => {
    const policy = only(await render({ valuesFiles: [DEFAULT], set: ['networkPolicy.enabled=true'] }), 'NetworkPolicy') as any;
    expect(policy.spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: { 'herald.io/producer': 'true' } } }]);
  });

  it('mounts the routes and event schemas it was given and points ingest at them', () => {
    const ingest = only(manifests, 'Deployment', '-ingest');
    const env = Object.fromEntries(envOf(ingest).map((e) => [e.name, e.value]));
    const routes = only(manifests, 'ConfigMap', '-routes') as any;
    const schemas = only(manifests, 'ConfigMap', '-event-schemas') as any;
    expect(JSON.parse(routes.data['routes.json'])[0].match).toBe('payment.*');
    expect(JSON.parse(schemas.data['refund.created.json']).required).toEqual(['refund_id', 'merchant_id']);
    const mounts = container(ingest).volumeMounts as any[];
    const volumes = podSpec(ingest).volumes as any[];
    const mountOf = (configMap: string): string => {
      const volume = volumes.find((v) => v.configMap?.name === configMap);
      return mounts.find((m) => m.name === volume.name).mountPath;
    };
    expect(env.ROUTES_FILE).toBe(`${mountOf(routes.metadata.name)}/routes.json`);
    expect(env.EVENT_SCHEMAS_DIR).toBe(mountOf(schemas.metadata.name));
    expect(mounts.find((m) => m.mountPath === '/etc/ssl/corporate')).toBeDefined();
  });

  it('pins the image by digest, pulls with the given secret, and forbids two edge pods on one node', () => {
    const edge = only(manifests, 'Deployment', '-edge');
    expect(container(edge).image).toBe('registry.example.com/payments/herald@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    expect(podSpec(edge).imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    const required = podSpec(edge).affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(required[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(podSpec(edge).topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
  });

  it('scales on connections per pod as well as CPU', () => {
    const hpa = only(manifests, 'HorizontalPodAutoscaler') as any;
    expect(hpa.spec.metrics).toContainEqual({
      type: 'Pods',
      pods: { metric: { name: 'herald_edge_connections' }, target: { type: 'AverageValue', averageValue: '20000' } },
    });
  });

  it('exposes the edge through a LoadBalancer that keeps client addresses', () => {
    const service = only(manifests, 'Service', '-edge') as any;
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.externalTrafficPolicy).toBe('Local');
    expect(service.spec.loadBalancerSourceRanges).toEqual(['10.0.0.0/8']);
  });
});

describe('secrets and Redis variants', () => {
  it('reads an existing Secret by the documented keys and creates none', async () => {
    const manifests = await render({ valuesFiles: [scenario('existing-secret')] });
    expect(find(manifests, 'Secret')).toEqual([]);
    const refs = (deployment: Manifest): Record<string, unknown> =>
      Object.fromEntries(envOf(deployment).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef]));
    expect(refs(only(manifests, 'Deployment', '-edge'))).toEqual({
      JWT_SECRET: { name: 'herald-credentials', key: 'JWT_SECRET' },
      REDIS_URL: { name: 'herald-credentials', key: 'REDIS_URL' },
    });
    expect(refs(only(manifests, 'Deployment', '-ingest'))).toEqual({
      JWT_SECRET: { name: 'herald-credentials', key: 'JWT_SECRET' },
      INGEST_API_KEYS: { name: 'herald-credentials', key: 'INGEST_API_KEYS' },
      REDIS_URL: { name: 'herald-credentials', key: 'REDIS_URL' },
    });
  });

  it('points both services at a Redis Cluster with its password in the Secret', async () => {
    const manifests = await render({ valuesFiles: [scenario('redis-cluster')] });
    for (const deployment of find(manifests, 'Deployment')) {
      const env = new Map(envOf(deployment).map((e) => [e.name, e]));
      expect(env.has('REDIS_URL')).toBe(false);
      expect(env.get('REDIS_CLUSTER_NODES')!.value!.split(',')).toHaveLength(3);
      expect(resolveEnv(manifests, env.get('REDIS_PASSWORD')!)).toBe('ci-cluster-password');
      expect(resolveEnv(manifests, env.get('JWT_PUBLIC_KEY')!)).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(env.get('JWT_ALGORITHMS')!.value).toBe('ES256');
    }
  });
});

describe('TLS from a kubernetes.io/tls Secret (PROTOCOL.md section 12)', () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({ valuesFiles: [scenario('tls')] });
  });

  it('mounts the Secret read-only on both services and points TLS_CERT_FILE and TLS_KEY_FILE at it', () => {
    for (const name of ['-edge', '-ingest']) {
      const deployment = only(manifests, 'Deployment', name);
      const volume = (podSpec(deployment).volumes as any[]).find((v) => v.name === 'tls');
      expect(volume.secret).toMatchObject({ secretName: 'herald-tls', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] });
      const mount = (container(deployment).volumeMounts as any[]).find((m) => m.name === 'tls');
      expect(mount).toEqual({ name: 'tls', mountPath: '/etc/herald/tls', readOnly: true });
      const env = Object.fromEntries(envOf(deployment).map((e) => [e.name, resolveEnv(manifests, e)]));
      expect(env.TLS_CERT_FILE).toBe('/etc/herald/tls/tls.crt');
      expect(env.TLS_KEY_FILE).toBe('/etc/herald/tls/tls.key');
      expect(env.TLS).toBeUndefined();
    }
  });

  it('probes over HTTPS and scrapes metrics over https', () => {
    for (const name of ['-edge', '-ingest']) {
      const c = container(only(manifests, 'Deployment', name));
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(probe.httpGet.scheme).toBe('HTTPS');
    }
    const endpoint = (only(manifests, 'ServiceMonitor') as any).spec.endpoints[0];
    expect(endpoint.scheme).toBe('https');
    expect(endpoint.tlsConfig).toEqual({ insecureSkipVerify: true });
  });

  it('takes paths of certificates mounted otherwise, and a tlsConfig for the scrape', async () => {
    const rendered = await render({
      valuesFiles: [
        DEFAULT,
        valuesFile({ tls: { certFile: '/certs/fullchain.pem', keyFile: '/certs/privkey.pem' }, serviceMonitor: { enabled: true, tlsConfig: { serverName: 'herald.example.com' } } }),
      ],
    });
    const edge = only(rendered, 'Deployment', '-edge');
    expect(Object.fromEntries(envOf(edge).map((e) => [e.name, e.value]))).toMatchObject({ TLS_CERT_FILE: '/certs/fullchain.pem', TLS_KEY_FILE: '/certs/privkey.pem' });
    expect((podSpec(edge).volumes as any[]).map((v) => v.name)).not.toContain('tls');
    expect(container(edge).readinessProbe.httpGet.scheme).toBe('HTTPS');
    expect((only(rendered, 'ServiceMonitor') as any).spec.endpoints[0].tlsConfig).toEqual({ serverName: 'herald.example.com' });
  });

  it('renders neither variable nor volume, and probes over HTTP, by default', async () => {
    const rendered = await render({ valuesFiles: [DEFAULT] });
    for (const name of ['-edge', '-ingest']) {
      const deployment = only(rendered, 'Deployment', name);
      expect(envOf(deployment).map((e) => e.name)).not.toContain('TLS_CERT_FILE');
      expect((podSpec(deployment).volumes as any[]).map((v) => v.name)).not.toContain('tls');
      expect(container(deployment).readinessProbe.httpGet.scheme).toBeUndefined();
    }
  });

  it('refuses half a pair, a Secret and paths together, and TLS with Istio', async () => {
    const refused = async (values: unknown, message: RegExp): Promise<void> => {
      const result = await helm(['template', 'herald', chartDir, '--values', DEFAULT, '--values', valuesFile(values)]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(message);
    };
    await refused({ tls: { certFile: '/certs/tls.crt' } }, /tls\.certFile and tls\.keyFile go together/);
    await refused({ tls: { secretName: 'herald-tls', keyFile: '/certs/tls.key', certFile: '/certs/tls.crt' } }, /tls\.secretName and tls\.certFile\/tls\.keyFile are exclusive/);
    await refused({ tls: { secretName: 'herald-tls' }, istio: { enabled: true, hosts: ['ws.example.com'] } }, /tls and istio\.enabled/);
    await refused({ tls: { secretName: 'Not_A_Secret' } }, /tls\/secretName|tls\.secretName/);
  });
});

describe('values the chart refuses, with a message naming the value', () => {
  /** A value's name as the chart's own checks (edge.maxMessageSize) or Helm's schema errors (/edge/maxMessageSize) spell it. */
  const value = (path: string): string => `(${path.replaceAll('.', '\\.')}|/${path.replaceAll('.', '/')})`;
  const refuses = async (values: unknown, message: RegExp, base: string[] = [DEFAULT]): Promise<void> => {
    const result = await helm(['template', 'herald', chartDir, ...base.flatMap((file) => ['--values', file]), '--values', valuesFile(values)]);
    expect(result.code, `helm template should fail with ${message}`).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  };

  it('neither redis.url nor redis.clusterNodes (the bare defaults)', async () => {
    const result = await helm(['template', 'herald', chartDir]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/redis: set exactly one of redis\.url .* or redis\.clusterNodes .*; neither is set\. The chart deploys no Redis\./);
    // helm lint turns `fail` into a notice, so the bare chart lints and says what is missing.
    const lint = await helm(['lint', chartDir]);
    expect(lint.code).toBe(0);
    expect(lint.stderr + lint.stdout).toMatch(/neither is set/);
    expect(lint.stderr + lint.stdout).toMatch(/jwt: set jwt\.secret/);
  });

  it('both redis.url and redis.clusterNodes', () =>
    refuses({ redis: { clusterNodes: ['redis-0:6379'] } }, /redis: set exactly one of redis\.url \(one Redis\) and redis\.clusterNodes \(a Redis Cluster\), not both/));

  it('redis.url from an existing Secret and redis.clusterNodes', () =>
    refuses(
      { redis: { clusterNodes: ['redis-0:6379'] } },
      /not both/,
      [scenario('existing-secret')],
    ));

  it('a duration without a unit or with a word', async () => {
    // Helm 4 says "at '/history/ttl': '10 minutes' does not match pattern", Helm 3 "history.ttl: Does not match pattern".
    await refuses({ history: { ttl: '10 minutes' } }, new RegExp(`${value('history.ttl')}.*does not match pattern`, 'i'));
    await refuses({ shutdown: { timeout: '25' } }, new RegExp(`${value('shutdown.timeout')}.*does not match pattern`, 'i'));
    await refuses({ edge: { websocket: { pingInterval: 30 } } }, new RegExp(`${value('edge.websocket.pingInterval')}.*string`));
  });

  it('a duration under the minimum the service accepts', () =>
    refuses({ edge: { admission: { leasePeriod: '500ms' } } }, /edge\.admission\.leasePeriod must be a duration of at least 3000ms \(got "500ms"\)/));

  it('a bad size, limit, enum, algorithm or key prefix', async () => {
    await refuses({ edge: { maxMessageSize: '64 kilobytes' } }, new RegExp(value('edge.maxMessageSize')));
    await refuses({ edge: { maxMessageSize: '100' } }, /edge\.maxMessageSize must be a size of at least 128 bytes \(got "100"\)/);
    await refuses({ edge: { maxConnections: 0 } }, new RegExp(value('edge.maxConnections')));
    await refuses({ logLevel: 'verbose' }, new RegExp(value('logLevel')));
    await refuses({ jwt: { algorithms: ['none'] } }, new RegExp(value('jwt.algorithms')));
    await refuses({ redis: { keyPrefix: 'has space' } }, new RegExp(value('redis.keyPrefix')));
  });

  it('a misspelt value', () => refuses({ edge: { maxConnection: 10 } }, /additional properties|additionalProperties|maxConnection/i));

  it('a read timeout not longer than the ping interval', () =>
    refuses({ edge: { websocket: { pingInterval: '60s', readTimeout: '60s' } } }, /edge\.websocket\.readTimeout \(60s\) must be longer than edge\.websocket\.pingInterval \(60s\)/));

  it('a drain period not shorter than the shutdown timeout', () =>
    refuses({ shutdown: { drainPeriod: '30s', timeout: '30s' } }, /shutdown\.drainPeriod \(30s\) must be shorter than shutdown\.timeout \(30s\)/));

  it('no JWT key, or both kinds', async () => {
    await refuses({ jwt: { secret: '' } }, /jwt: set jwt\.secret .* or jwt\.publicKey/);
    await refuses({ jwt: { publicKey: '-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n' } }, /JWT_SECRET and JWT_PUBLIC_KEY are exclusive/);
    await refuses({ jwt: { secret: '', publicKey: 'not a pem' } }, /jwt\.publicKey must be a PEM public key/);
    await refuses({ jwt: { algorithms: ['RS256'] } }, /jwt\.algorithms must list only HS256, HS384 or HS512 with jwt\.secret/);
  });

  it('inline secrets next to an existing Secret', () =>
    refuses({ ingest: { apiKeys: ['k1'] } }, /ingest\.apiKeys is set while secrets\.existingSecret is used/, [scenario('existing-secret')]));
});

describe('message types (MESSAGE_TYPES_FILE, PROTOCOL.md section 10)', () => {
  const documents = [
    {
      apiVersion: 'api.example.com/v1',
      kind: 'WebSocketMessageType',
      metadata: { name: 'refund-types', labels: { team: 'payments' } },
      spec: {
        types: [
          {
            name: 'refund.created',
            description: 'Refund created event',
            schema: { type: 'object', required: ['refund_id', 'merchant_id'], properties: { refund_id: { type: 'string' }, amount: { type: 'integer', maximum: 1000000 } } },
          },
        ],
      },
    },
    {
      apiVersion: 'api.example.com/v1',
      kind: 'WebSocketMessageType',
      metadata: { name: 'payment-overrides' },
      spec: { types: [{ name: 'payment.updated', description: 'A payment changed: why', schema: { type: 'object', required: ['reason'] } }] },
    },
  ];
  /** `messageTypes` is a top-level value (PROTOCOL.md section 10); the file path is the ingest's. */
  const withTypes = ({ messageTypes, ...ingest }: Record<string, unknown>): string =>
    valuesFile({ ...(messageTypes === undefined ? {} : { messageTypes }), ...(Object.keys(ingest).length > 0 ? { ingest } : {}) });
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({ valuesFiles: [DEFAULT, withTypes({ messageTypes: documents })] });
  });

  it('renders messageTypes into a ConfigMap mounted on ingest and points MESSAGE_TYPES_FILE at it', async () => {
    const configMap = only(manifests, 'ConfigMap', '-message-types') as any;
    await validateManifest(configMap);
    const ingest = only(manifests, 'Deployment', '-ingest');
    const volume = (podSpec(ingest).volumes as any[]).find((v) => v.configMap?.name === configMap.metadata.name);
    const mount = (container(ingest).volumeMounts as any[]).find((m) => m.name === volume.name);
    expect(mount.readOnly).toBe(true);
    const env = Object.fromEntries(envOf(ingest).map((e) => [e.name, e.value]));
    expect(env.MESSAGE_TYPES_FILE).toBe(`${mount.mountPath}/message-types.yaml`);
    // A new ConfigMap rolls the ingest pods.
    expect((ingest as any).spec.template.metadata.annotations['checksum/config']).not.toBe(
      (only(await render({ valuesFiles: [DEFAULT] }), 'Deployment', '-ingest') as any).spec.template.metadata.annotations['checksum/config'],
    );
    // The edge reads no message types.
    const edge = only(manifests, 'Deployment', '-edge');
    expect(envOf(edge).map((e) => e.name)).not.toContain('MESSAGE_TYPES_FILE');
    expect((podSpec(edge).volumes as any[]).map((v) => v.name)).not.toContain(volume.name);
  });

  it('mounts one YAML file of the documents, which the service loads', () => {
    const text = (only(manifests, 'ConfigMap', '-message-types') as any).data['message-types.yaml'] as string;
    expect(parseAllDocuments(text).map((document) => document.toJS())).toEqual(documents);
    const file = join(mkdtempSync(join(tmpdir(), 'herald-chart-types-')), 'message-types.yaml');
    writeFileSync(file, text);
    const registry = MessageTypeRegistry.withBuiltins();
    expect(registry.loadFile(file)).toEqual({ types: ['refund.created', 'payment.updated'], replacedBuiltins: ['payment.updated'] });
    expect(registry.validate('refund.created', { refund_id: 'r_1', amount: 2000000 })).toEqual([
      { field: 'data.merchant_id', message: 'is required' },
      { field: 'data.amount', message: 'must be <= 1000000' },
    ]);
  });

  it('renders neither ConfigMap nor variable by default, and a path of the container when given one', async () => {
    const defaults = await render({ valuesFiles: [DEFAULT] });
    expect(find(defaults, 'ConfigMap', '-message-types')).toEqual([]);
    expect(envOf(only(defaults, 'Deployment', '-ingest')).map((e) => e.name)).not.toContain('MESSAGE_TYPES_FILE');
    const own = await render({ valuesFiles: [DEFAULT, withTypes({ messageTypesFile: '/etc/custom/types.yaml' })] });
    expect(find(own, 'ConfigMap', '-message-types')).toEqual([]);
    expect(Object.fromEntries(envOf(only(own, 'Deployment', '-ingest')).map((e) => [e.name, e.value])).MESSAGE_TYPES_FILE).toBe('/etc/custom/types.yaml');
  });

  it('refuses a path and documents together, and documents that are not WebSocketMessageType documents', async () => {
    const refused = async (ingest: Record<string, unknown>, message: RegExp): Promise<void> => {
      const result = await helm(['template', 'herald', chartDir, '--values', DEFAULT, '--values', withTypes(ingest)]);
      expect(result.code, `helm template should fail with ${message}`).not.toBe(0);
      expect(result.stderr).toMatch(message);
    };
    await refused({ messageTypesFile: '/etc/custom/types.yaml', messageTypes: documents }, /ingest\.messageTypesFile and messageTypes are exclusive/);
    await refused({ messageTypes: [{ ...documents[0], kind: 'ConfigMap' }] }, /(messageTypes\.0\.kind|\/messageTypes\/0\/kind)/);
    const { description: _dropped, ...undescribed } = documents[1]!.spec.types[0]!;
    await refused({ messageTypes: [{ ...documents[1], spec: { types: [undescribed] } }] }, /(messageTypes\.0\.spec\.types\.0|\/messageTypes\/0\/spec\/types\/0).*description/);
  });

  it('describes a document in values.schema.json as the registry does', () => {
    const chartSchema = JSON.parse(readFileSync(`${chartDir}/values.schema.json`, 'utf8'));
    expect(chartSchema.properties.messageTypes.items).toEqual({ $ref: '#/definitions/messageTypeDocument' });
    // Annotations apart (the registry's own messages, ids and titles), the same rules.
    const rules = (node: unknown): unknown =>
      Array.isArray(node)
        ? node.map(rules)
        : node !== null && typeof node === 'object'
          ? Object.fromEntries(
              Object.entries(node)
                .filter(([key]) => !['$schema', '$id', 'title', 'description', 'message'].includes(key))
                .map(([key, value]) => [key, key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([name, child]) => [name, rules(child)])) : rules(value)]),
            )
          : node;
    expect(rules(chartSchema.definitions.messageTypeDocument)).toEqual(rules(MESSAGE_TYPE_DOCUMENT_SCHEMA));
  });
});
