/**
 * The in-memory broker: the default engine for `herald start` and single-node installs.
 * Publishing is synchronous inside the process, so it never disconnects and never
 * needs gap filling; history follows the same retention rules as the Redis engine.
 */
import type { Broker, BrokerListener, BrokerState, EventPublishRequest, EventPublishResult, HistoryResult } from './broker.js';
import { BrokerUnavailableError } from './broker.js';
import { MemoryBrokerStore, type PublicationSink } from './memory-store.js';
import { retentionOf, type RetentionSettings } from './retention.js';

export interface MemoryBrokerOptions {
  /** Share one store between several instances to model several nodes (its retention applies). */
  store?: MemoryBrokerStore;
  /** Settings left out take their defaults; the engine derives its windows (`retentionOf`). */
  retention?: Partial<RetentionSettings>;
}

export class MemoryBroker implements Broker, PublicationSink {
  readonly kind = 'memory';
  readonly store: MemoryBrokerStore;
  private listener: BrokerListener | undefined;
  private currentState: BrokerState = 'connecting';
  private readonly channels = new Set<string>();

  constructor(options: MemoryBrokerOptions = {}) {
    this.store = options.store ?? new MemoryBrokerStore(retentionOf(options.retention));
  }

  get state(): BrokerState {
    return this.currentState;
  }

  async start(listener: BrokerListener): Promise<void> {
    this.listener = listener;
    this.currentState = 'ready';
    this.store.startSweeping();
  }

  async stop(): Promise<void> {
    for (const channel of this.channels) this.store.removeSubscriber(channel, this);
    this.channels.clear();
    this.currentState = 'closed';
  }

  async publishEvents(events: readonly EventPublishRequest[]): Promise<Array<EventPublishResult | Error>> {
    this.assertOpen();
    return events.map((event) => this.store.publishEvent(event));
  }

  async subscribe(channel: string): Promise<void> {
    this.assertOpen();
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    this.store.addSubscriber(channel, this);
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.channels.delete(channel)) return;
    this.store.removeSubscriber(channel, this);
  }

  async history(channel: string, since: string): Promise<HistoryResult> {
    this.assertOpen();
    return this.store.history(channel, since);
  }

  async position(channel: string): Promise<string | undefined> {
    this.assertOpen();
    return this.store.position(channel);
  }

  /** Called by the store for every publication of a subscribed channel. */
  deliver(channel: string, seq: string, envelope: Buffer): void {
    this.listener?.onPublication(channel, seq, envelope);
  }

  private assertOpen(): void {
    if (this.currentState !== 'ready') throw new BrokerUnavailableError(`memory broker is ${this.currentState}`);
  }
}

