/**
 * The drain arithmetic of the chart (values.yaml, "Shutdown and the drain"): the kubelet
 * runs the preStop sleep, then sends SIGTERM, and kills the pod at
 * terminationGracePeriodSeconds counted from the start of the preStop. The service
 * closes its connections with 1001 over SHUTDOWN_DRAIN_PERIOD and exits before
 * SHUTDOWN_TIMEOUT, so the grace period must cover preStop + SHUTDOWN_TIMEOUT (+ margin),
 * or a rolling update cuts connections with no 1001: silently, for the client.
 */
import { basename } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chartDir, ciValuesFiles, container, envOf, find, helm, helmBinary, only, podSpec, render, runtimeConfig, type Manifest, type RuntimeConfig } from '../support/helm.js';

const DEFAULT = `${chartDir}/ci/default-values.yaml`;
let runtime: RuntimeConfig;

beforeAll(async () => {
  helmBinary();
  runtime = await runtimeConfig();
}, 240_000);

/** Milliseconds of a duration variable, parsed by the service's own parser. */
function ms(name: 'SHUTDOWN_TIMEOUT' | 'SHUTDOWN_DRAIN_PERIOD', text: string): number {
  const parsed = runtime.CONFIG_SCHEMA[name].parse(text);
  if (!parsed.ok) throw new Error(`${name}=${text}: ${parsed.expected}`);
  return parsed.value;
}

interface Drain {
  preStopSeconds: number;
  timeoutMs: number;
  drainMs: number;
  graceSeconds: number;
}

function drainOf(deployment: Manifest): Drain {
  const c = container(deployment);
  const command = c.lifecycle.preStop.exec.command as string[];
  expect(command[0]).toBe('sleep');
  expect(command).toHaveLength(2);
  const env = Object.fromEntries(envOf(deployment).map((e) => [e.name, e.value]));
  return {
    preStopSeconds: Number(command[1]),
    timeoutMs: ms('SHUTDOWN_TIMEOUT', env.SHUTDOWN_TIMEOUT!),
    drainMs: ms('SHUTDOWN_DRAIN_PERIOD', env.SHUTDOWN_DRAIN_PERIOD!),
    graceSeconds: podSpec(deployment).terminationGracePeriodSeconds,
  };
}

describe('terminationGracePeriodSeconds >= preStop sleep + SHUTDOWN_TIMEOUT', () => {
  it.each(ciValuesFiles().map((file) => [basename(file), file]))('in %s, for both services', async (_name, file) => {
    const manifests = await render({ valuesFiles: [file] });
    for (const deployment of find(manifests, 'Deployment')) {
      const drain = drainOf(deployment);
      expect(drain.preStopSeconds).toBeGreaterThan(0);
      expect(drain.drainMs).toBeLessThan(drain.timeoutMs);
      expect(drain.graceSeconds * 1000, deployment.metadata.name).toBeGreaterThanOrEqual(drain.preStopSeconds * 1000 + drain.timeoutMs);
      // Rolling updates add a pod before removing one: capacity never drops.
      expect((deployment as any).spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    }
  });

  it('with the defaults: 5 s preStop + 25 s timeout + 5 s margin = 35 s, drain 10 s', async () => {
    const edge = only(await render({ valuesFiles: [DEFAULT] }), 'Deployment', '-edge');
    expect(drainOf(edge)).toEqual({ preStopSeconds: 5, timeoutMs: 25_000, drainMs: 10_000, graceSeconds: 35 });
  });

  const grid: [string, number, number][] = [];
  for (const timeout of ['100ms', '25s', '30.5s', '2m']) for (const preStop of [0, 5, 15]) for (const margin of [0, 5]) grid.push([timeout, preStop, margin]);

  it('is computed as preStop + ceil(timeout) + margin for any of them', async () => {
    for (const [timeout, preStop, margin] of grid) {
      const manifests = await render({
        valuesFiles: [DEFAULT],
        set: [
          `shutdown.timeout=${timeout}`,
          'shutdown.drainPeriod=0s',
          `edge.lifecycle.preStopSleepSeconds=${preStop}`,
          `edge.lifecycle.terminationMarginSeconds=${margin}`,
          `ingest.lifecycle.preStopSleepSeconds=${preStop}`,
          `ingest.lifecycle.terminationMarginSeconds=${margin}`,
        ],
      });
      for (const deployment of find(manifests, 'Deployment')) {
        const drain = drainOf(deployment);
        expect(drain.graceSeconds, `${timeout} ${preStop} ${margin}`).toBe(preStop + Math.ceil(ms('SHUTDOWN_TIMEOUT', timeout) / 1000) + margin);
        expect(drain.graceSeconds * 1000).toBeGreaterThanOrEqual(drain.preStopSeconds * 1000 + drain.timeoutMs);
      }
    }
  }, 60_000);

  it('refuses a grace period set by hand that is too short, naming the terms', async () => {
    const result = await helm(['template', 'herald', chartDir, '--values', DEFAULT, '--set', 'edge.terminationGracePeriodSeconds=30']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'edge.terminationGracePeriodSeconds (30) must be at least edge.lifecycle.preStopSleepSeconds (5) + shutdown.timeout (25s, so 25s) + edge.lifecycle.terminationMarginSeconds (5) = 35',
    );
    const ingest = await helm(['template', 'herald', chartDir, '--values', DEFAULT, '--set', 'shutdown.timeout=1m', '--set', 'ingest.terminationGracePeriodSeconds=60']);
    expect(ingest.code).not.toBe(0);
    expect(ingest.stderr).toContain('ingest.terminationGracePeriodSeconds (60) must be at least');
  });

  it('keeps a longer grace period set by hand', async () => {
    const edge = only(await render({ valuesFiles: [DEFAULT], set: ['edge.terminationGracePeriodSeconds=120'] }), 'Deployment', '-edge');
    expect(drainOf(edge).graceSeconds).toBe(120);
  });

  it('keeps the Istio sidecar for the whole grace period', async () => {
    const manifests = await render({ valuesFiles: [`${chartDir}/ci/all-features.yaml`] });
    for (const deployment of find(manifests, 'Deployment')) {
      const config = JSON.parse((deployment as any).spec.template.metadata.annotations['proxy.istio.io/config']);
      expect(Number(/^(\d+)s$/.exec(config.terminationDrainDuration)![1])).toBeGreaterThanOrEqual(drainOf(deployment).graceSeconds);
    }
  });
});
