/**
 * The chart's Redis over TLS (PROTOCOL.md section 12): a private CA from a Secret or a
 * ConfigMap is mounted read-only on both Deployments with REDIS_TLS_CA_FILE pointing at
 * it; a path mounted otherwise is passed as it is; and the combinations the services
 * refuse at start (TLS settings for a plaintext Redis) are refused at render time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { chartDir, container, envOf, helm, helmBinary, only, podSpec, render, valuesFile, type Manifest } from '../support/helm.js';

const DEFAULT = `${chartDir}/ci/default-values.yaml`;
const CLUSTER = { redis: { url: '', clusterNodes: ['redis-0.redis:6379', 'redis-1.redis:6379'] } };

beforeAll(() => {
  helmBinary();
}, 240_000);

function envMap(deployment: Manifest): Record<string, string | undefined> {
  return Object.fromEntries(envOf(deployment).map((entry) => [entry.name, entry.value]));
}

async function refused(values: unknown, message: RegExp): Promise<void> {
  const result = await helm(['template', 'herald', chartDir, '--values', DEFAULT, '--values', valuesFile(values)]);
  expect(result.code, JSON.stringify(values)).not.toBe(0);
  expect(result.stderr).toMatch(message);
}

describe('Redis over TLS in the chart', () => {
  it('mounts a CA from a Secret on both Deployments and points REDIS_TLS_CA_FILE at it', async () => {
    const manifests = await render({ valuesFiles: [DEFAULT, valuesFile({ ...CLUSTER, redis: { ...CLUSTER.redis, tls: { enabled: true, caSecretName: 'redis-ca', caKey: 'ca.pem', servername: 'redis.internal' } } })] });
    for (const component of ['edge', 'ingest']) {
      const deployment = only(manifests, 'Deployment', `-${component}`);
      expect(envMap(deployment)).toMatchObject({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/etc/herald/redis-tls/ca.pem', REDIS_TLS_SERVERNAME: 'redis.internal' });
      const volume = (podSpec(deployment).volumes as any[]).find((v) => v.name === 'redis-tls');
      expect(volume.secret).toEqual({ secretName: 'redis-ca', items: [{ key: 'ca.pem', path: 'ca.pem' }] });
      const mount = (container(deployment).volumeMounts as any[]).find((m) => m.name === 'redis-tls');
      expect(mount).toEqual({ name: 'redis-tls', mountPath: '/etc/herald/redis-tls', readOnly: true });
    }
  });

  it('takes the CA from a ConfigMap, or a path mounted otherwise, with a rediss:// URL', async () => {
    const fromConfigMap = await render({ valuesFiles: [DEFAULT, valuesFile({ redis: { url: 'rediss://redis:6380', tls: { caConfigMapName: 'redis-ca' } } })] });
    const edge = only(fromConfigMap, 'Deployment', '-edge');
    expect(envMap(edge).REDIS_TLS_CA_FILE).toBe('/etc/herald/redis-tls/ca.crt');
    expect((podSpec(edge).volumes as any[]).find((v) => v.name === 'redis-tls').configMap).toEqual({ name: 'redis-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] });

    const fromPath = await render({ valuesFiles: [DEFAULT, valuesFile({ redis: { url: 'rediss://redis:6380', tls: { caFile: '/certs/redis-ca.pem' } } })] });
    const ingest = only(fromPath, 'Deployment', '-ingest');
    expect(envMap(ingest).REDIS_TLS_CA_FILE).toBe('/certs/redis-ca.pem');
    expect((podSpec(ingest).volumes as any[]).map((v) => v.name)).not.toContain('redis-tls');
  });

  it('refuses TLS settings for a Redis reached in plaintext, and two CA sources', async () => {
    await refused({ redis: { tls: { enabled: true } } }, /redis\.tls\.enabled is for redis\.clusterNodes/);
    await refused({ redis: { tls: { caSecretName: 'redis-ca' } } }, /reached in plaintext/);
    await refused({ ...CLUSTER, redis: { ...CLUSTER.redis, tls: { servername: 'redis.internal' } } }, /reached in plaintext/);
    await refused({ redis: { url: 'rediss://redis:6380', tls: { caSecretName: 'a', caConfigMapName: 'b' } } }, /set one of caSecretName, caConfigMapName and caFile/);
    await refused({ redis: { url: 'rediss://redis:6380', tls: { caSecretName: 'Not_A_Secret' } } }, /caSecretName/);
  });
});
