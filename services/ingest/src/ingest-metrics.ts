/** Ingest metrics: events accepted, rejected by problem type, duplicates, publish time. */
import { Counter, Histogram, type Registry } from '@herald/runtime';

export type IngestSource = 'http' | 'stream';

export class IngestMetrics {
  private readonly accepted: Counter<'source' | 'type'>;
  private readonly rejected: Counter<'source' | 'problem'>;
  private readonly duplicates: Counter<'source'>;
  readonly publishSeconds: Histogram<'source'>;

  constructor(registry: Registry) {
    this.accepted = new Counter({ name: 'herald_ingest_events_accepted_total', help: 'Events accepted (published or duplicate), by source and event type', labelNames: ['source', 'type'], registers: [registry] });
    this.rejected = new Counter({ name: 'herald_ingest_events_rejected_total', help: 'Events rejected, by source and problem type', labelNames: ['source', 'problem'], registers: [registry] });
    this.duplicates = new Counter({ name: 'herald_ingest_duplicates_total', help: 'Events accepted again without publishing (idempotency)', labelNames: ['source'], registers: [registry] });
    this.publishSeconds = new Histogram({
      name: 'herald_ingest_publish_seconds',
      help: 'Time to put a request\'s events into every target channel\'s history',
      labelNames: ['source'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
  }

  acceptedInc(source: IngestSource, type: string, duplicate: boolean): void {
    this.accepted.inc({ source, type });
    if (duplicate) this.duplicates.inc({ source });
  }

  rejectedInc(source: IngestSource, problemType: string): void {
    this.rejected.inc({ source, problem: problemType });
  }
}
