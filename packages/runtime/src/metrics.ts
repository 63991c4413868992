/**
 * The Prometheus registry of a process, served on /metrics. Hot paths never call
 * prom-client per event: they bump plain numbers that collect() copies at scrape time.
 */
import type { ServerResponse } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';

export { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetricsRegistry(node: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ node });
  collectDefaultMetrics({ register: registry, prefix: 'herald_' });
  return registry;
}

/** Answers a scrape with the registry's metrics, or with `text` when given (metrics gathered elsewhere). */
export async function serveMetrics(registry: Registry, res: ServerResponse, text?: () => Promise<string>): Promise<void> {
  const body = text === undefined ? await registry.metrics() : await text();
  res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
  res.end(body);
}
