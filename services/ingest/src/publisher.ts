/**
 * The ingest pipeline shared by HTTP and the Redis stream: validate, route, check
 * idempotency, publish to every target channel, and only then report success. An
 * event is accepted only once every target channel's history has it.
 */
import { randomBytes } from 'node:crypto';
import { BrokerUnavailableError, type Broker, type PublishRequest, type PublishResult } from '@herald/broker';
import { Problem, envelopeTemplate, nowIso, type FieldError, type ProblemDefinition } from '@herald/protocol';
import type { MessageTypeRegistry } from '@herald/protocol/registry';
import type { Logger } from '@herald/runtime';
import { validateEvent } from './event-validation.js';
import type { IdempotencyState, IdempotencyStore } from './idempotency.js';
import type { IngestMetrics, IngestSource } from './ingest-metrics.js';
import type { Router } from './routes.js';

export interface IncomingEvent {
  /** The parsed JSON of one event. */
  readonly raw: unknown;
  /** An `Idempotency-Key` header: replaces the event's id. */
  readonly idOverride?: string;
  /** The id when the event has none (a stream entry's id, stable across retries). */
  readonly defaultId?: string;
  /** How fields are named in errors: '' alone, `events[3]` in a batch. */
  readonly fieldPrefix?: string;
}

export interface Accepted {
  readonly ok: true;
  readonly id: string;
  readonly channels: readonly string[];
  readonly duplicate: boolean;
}

export interface Rejected {
  readonly ok: false;
  readonly problem: ProblemDefinition;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
}

export type Outcome = Accepted | Rejected;

interface Prepared {
  readonly index: number;
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly channels: readonly string[];
  readonly data: string;
}

export function newEventId(): string {
  return `evt_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
}

export class EventPublisher {
  constructor(
    private readonly broker: Broker,
    private readonly registry: MessageTypeRegistry,
    private readonly router: Router,
    private readonly idempotency: IdempotencyStore,
    private readonly metrics: IngestMetrics,
    private readonly logger: Logger,
  ) {}

  /** One outcome per event, in order; one bad event never rejects the others. */
  async accept(events: readonly IncomingEvent[], source: IngestSource): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(events.length);
    const types: string[] = new Array(events.length);
    const prepared: Prepared[] = [];
    const receivedAt = nowIso();
    events.forEach((incoming, index) => {
      const result = this.prepare(incoming, index, receivedAt);
      if ('ok' in result) outcomes[index] = result;
      else {
        prepared.push(result);
        types[index] = result.type;
      }
    });
    if (prepared.length > 0) await this.publishPrepared(prepared, outcomes);
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.ok) this.metrics.acceptedInc(source, types[i]!, outcome.duplicate);
      else this.metrics.rejectedInc(source, outcome.problem.type);
    }
    return outcomes;
  }

  private prepare(incoming: IncomingEvent, index: number, receivedAt: string): Prepared | Rejected {
    const prefix = incoming.fieldPrefix ?? '';
    const validation = validateEvent(incoming.raw, this.registry, prefix);
    if (!validation.ok) return { ok: false, problem: validation.problem, detail: validation.detail, errors: validation.errors };
    const event = validation.event;
    const routed = this.router.route(event.type, event as unknown as Record<string, unknown>, prefix);
    if (!routed.ok) {
      return { ok: false, problem: Problem.validationFailed, detail: routed.errors.map((e) => `${e.field} ${e.message}`).join('; '), errors: routed.errors };
    }
    return {
      index,
      id: incoming.idOverride ?? event.id ?? incoming.defaultId ?? newEventId(),
      type: event.type,
      timestamp: event.timestamp ?? receivedAt,
      channels: routed.channels,
      data: JSON.stringify(event.data),
    };
  }

  private async publishPrepared(prepared: Prepared[], outcomes: Outcome[]): Promise<void> {
    const unavailable = (detail: string): void => {
      for (const item of prepared) outcomes[item.index] = { ok: false, problem: Problem.brokerUnavailable, detail };
    };
    if (this.broker.state !== 'ready') {
      unavailable(`The broker is ${this.broker.state}; nothing was published. Retry with the same id.`);
      return;
    }
    let states: IdempotencyState[];
    try {
      states = await this.idempotency.begin(prepared.map((item) => item.id));
    } catch (error) {
      this.logger.warn({ err: error }, 'idempotency store unavailable');
      unavailable('The idempotency store is unavailable; nothing was published. Retry with the same id.');
      return;
    }

    // Publish what is not already done; an id repeated inside one batch publishes once.
    const firstOfId = new Map<string, Prepared>();
    const toPublish: Prepared[] = [];
    prepared.forEach((item, i) => {
      const state = states[i]!;
      if (state.state === 'done') {
        outcomes[item.index] = { ok: true, id: item.id, channels: state.channels, duplicate: true };
      } else if (firstOfId.has(item.id)) {
        // Resolved below, from the first occurrence's outcome.
      } else {
        firstOfId.set(item.id, item);
        toPublish.push(item);
      }
    });

    const requests: PublishRequest[] = [];
    for (const item of toPublish) {
      const event = { type: item.type, id: item.id, timestamp: item.timestamp, data: item.data };
      for (const channel of item.channels) requests.push({ channel, template: envelopeTemplate(event, channel), idempotencyKey: item.id });
    }
    let results: Array<PublishResult | Error>;
    try {
      results = requests.length > 0 ? await this.broker.publishBatch(requests) : [];
    } catch (error) {
      results = requests.map(() => (error instanceof Error ? error : new BrokerUnavailableError(String(error))));
    }

    const completed: Array<{ id: string; channels: readonly string[] }> = [];
    let cursor = 0;
    for (const item of toPublish) {
      const mine = results.slice(cursor, cursor + item.channels.length);
      cursor += item.channels.length;
      const failure = mine.find((result): result is Error => result instanceof Error);
      if (failure) {
        this.logger.warn({ err: failure, id: item.id }, 'publish failed');
        outcomes[item.index] = {
          ok: false,
          problem: Problem.brokerUnavailable,
          detail: 'The broker could not store the event in every channel. Retry with the same id: channels that have it will not get it twice.',
        };
        continue;
      }
      const duplicate = mine.every((result) => (result as PublishResult).duplicate);
      outcomes[item.index] = { ok: true, id: item.id, channels: item.channels, duplicate };
      completed.push({ id: item.id, channels: item.channels });
    }
    for (const item of prepared) {
      if (outcomes[item.index] !== undefined) continue;
      const first = outcomes[firstOfId.get(item.id)!.index]!;
      outcomes[item.index] = first.ok ? { ...first, duplicate: true } : first;
    }
    if (completed.length > 0) {
      // The events are in history already; a failure here only means a later retry
      // publishes again through the broker's per-channel dedupe.
      await this.idempotency.complete(completed).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'could not mark events done in the idempotency store');
      });
    }
  }
}
