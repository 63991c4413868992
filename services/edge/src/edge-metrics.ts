/**
 * Edge metrics. Per-delivery counts are plain numbers copied into prom-client at
 * scrape time: the fan-out loop never calls into prom-client.
 */
import type { DisconnectLabel } from '@herald/protocol';
import { Counter, Gauge, Histogram, type Registry } from '@herald/runtime';
import type { FramesMade } from './event-frames.js';
import { LagWindow } from './stats/lag-window.js';

/** The label of a disconnect (its row in @herald/protocol's table of disconnects). */
export type DisconnectReason = DisconnectLabel;

export interface EdgeGaugeSources {
  connections(): number;
  subscriptions(): number;
  channels(): number;
  brokerUp(): boolean;
  /** Open connections by negotiated subprotocol. */
  connectionsByFormat(): Record<string, number>;
  /** Event frames made for live fan-out and for recovery, by kind. */
  framesMade(): { readonly live: FramesMade; readonly recovery: FramesMade };
}

export class EdgeMetrics {
  /** Bumped on the hot path; exported at scrape time. */
  deliveries = 0;
  publications = 0;
  /** Connections closed over MAX_BUFFERED_BYTES since start (the console's stats). */
  slowConsumerCloses = 0;
  /** The last second's lags for the console's stats (stats-publisher.ts), beside the histogram. */
  readonly recentLag = new LagWindow();
  private readonly handshakeRefused: Counter<'reason'>;
  private readonly admissionRefused: Counter<'reason'>;
  private readonly disconnects: Counter<'reason'>;
  private readonly recoveries: Counter<'result'>;
  private readonly lag: Histogram<'type'>;
  private readonly gapFills: Counter<'result'>;

  constructor(registry: Registry, sources: EdgeGaugeSources) {
    const deliveries = (): number => this.deliveries;
    const publications = (): number => this.publications;
    new Gauge({
      name: 'herald_edge_connections',
      help: 'Open WebSocket connections on this node',
      registers: [registry],
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: 'herald_edge_subscriptions',
      help: 'Channel subscriptions of the connections on this node',
      registers: [registry],
      collect() {
        this.set(sources.subscriptions());
      },
    });
    new Gauge({
      name: 'herald_edge_channels',
      help: 'Channels this node is subscribed to at the broker',
      registers: [registry],
      collect() {
        this.set(sources.channels());
      },
    });
    new Gauge({
      name: 'herald_edge_broker_up',
      help: '1 while the broker is connected and every subscription is live',
      registers: [registry],
      collect() {
        this.set(sources.brokerUp() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'herald_edge_subprotocol_connections',
      help: 'Open WebSocket connections on this node, by negotiated subprotocol',
      labelNames: ['subprotocol'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [subprotocol, count] of Object.entries(sources.connectionsByFormat())) this.set({ subprotocol }, count);
      },
    });
    new Counter({
      name: 'herald_edge_event_frames_total',
      help: 'Event frames made, by format, compression and path: a live frame is made once per event and shared by every connection it fits; a recovery frame serves one connection',
      labelNames: ['format', 'compression', 'path'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [path, made] of Object.entries(sources.framesMade())) {
          this.inc({ format: 'json', compression: 'none', path }, made.json);
          this.inc({ format: 'json', compression: 'deflate', path }, made.jsonDeflate);
          this.inc({ format: 'protobuf', compression: 'none', path }, made.protobuf);
          this.inc({ format: 'protobuf', compression: 'deflate', path }, made.protobufDeflate);
        }
      },
    });
    new Counter({
      name: 'herald_edge_deliveries_total',
      help: 'Event frames written to connections',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(deliveries());
      },
    });
    new Counter({
      name: 'herald_edge_publications_total',
      help: 'Events received from the broker for fan-out',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(publications());
      },
    });
    this.handshakeRefused = new Counter({ name: 'herald_edge_handshakes_refused_total', help: 'Upgrades refused before the WebSocket opened, by problem', labelNames: ['reason'], registers: [registry] });
    this.admissionRefused = new Counter({ name: 'herald_edge_admissions_refused_total', help: 'Connections refused by the connection limits, by reason', labelNames: ['reason'], registers: [registry] });
    this.disconnects = new Counter({ name: 'herald_edge_disconnects_total', help: 'Connections ended, by reason', labelNames: ['reason'], registers: [registry] });
    this.recoveries = new Counter({ name: 'herald_edge_recoveries_total', help: 'Subscriptions with since, by result', labelNames: ['result'], registers: [registry] });
    this.gapFills = new Counter({ name: 'herald_edge_gap_fills_total', help: 'Channel gap fills after a broker reconnection, by result', labelNames: ['result'], registers: [registry] });
    this.lag = new Histogram({
      name: 'herald_edge_delivery_lag_seconds',
      help: 'Time from broker publish (seq time) to fan-out on this node, by event type',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  handshakeRefusedInc(reason: string): void {
    this.handshakeRefused.inc({ reason });
  }
  admissionRefusedInc(reason: string): void {
    this.admissionRefused.inc({ reason });
  }
  disconnect(reason: DisconnectReason): void {
    this.disconnects.inc({ reason });
    if (reason === 'slow-consumer') this.slowConsumerCloses += 1;
  }
  recovery(result: 'recovered' | 'continuity-lost'): void {
    this.recoveries.inc({ result });
  }
  gapFill(result: 'filled' | 'continuity-lost'): void {
    this.gapFills.inc({ result });
  }
  observeLag(type: string, seconds: number): void {
    this.lag.observe({ type }, seconds);
    this.recentLag.observe(seconds * 1000);
  }
}
