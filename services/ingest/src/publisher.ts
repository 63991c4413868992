/**
 * The ingest pipeline shared by HTTP and the Redis stream: validate, route, publish to
 * every target channel through the broker's event-level idempotency (IDEMPOTENCY_TTL:
 * a repeated id is accepted but not published again), and only then report success.
 * An event is accepted only once every target channel's history has it.
 */
import { randomBytes } from 'node:crypto';
import { BrokerUnavailableError, type Broker, type EventPublishRequest, type EventPublishResult } from '@herald/broker';
import { Problem, envelopeTemplate, nowIso, type FieldError, type JsonInputViolation, type ProblemDefinition } from '@herald/protocol';
import type { MessageTypeRegistry } from '@herald/protocol/registry';
import type { Logger } from '@herald/runtime';
import { validateEvent } from './event-validation.js';
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
  /** What the input-limit pass found in this event's JSON (paths as errors name fields). */
  readonly inputViolations?: readonly JsonInputViolation[];
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

/** An event refused by the input limits: `invalid-event` for nesting, `validation-failed` otherwise. */
export function rejectInput(violations: readonly JsonInputViolation[]): Rejected {
  const problem = violations.some((v) => v.reason === 'depth') ? Problem.invalidEvent : Problem.validationFailed;
  const errors = violations.map((v) => ({ field: v.path === '' ? '(body)' : v.path, message: v.message }));
  return { ok: false, problem, detail: errors.map((e) => `${e.field} ${e.message}`).join('; '), errors };
}

export class EventPublisher {
  constructor(
    private readonly broker: Broker,
    private readonly registry: MessageTypeRegistry,
    private readonly router: Router,
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
    const violations = incoming.inputViolations ?? [];
    if (violations.length > 0) return rejectInput(violations);
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
    const events: EventPublishRequest[] = prepared.map((item) => {
      const event = { type: item.type, id: item.id, timestamp: item.timestamp, data: item.data };
      return { id: item.id, requests: item.channels.map((channel) => ({ channel, template: envelopeTemplate(event, channel) })) };
    });
    let results: Array<EventPublishResult | Error>;
    try {
      results = await this.broker.publishEvents(events);
    } catch (error) {
      results = events.map(() => (error instanceof Error ? error : new BrokerUnavailableError(String(error))));
    }
    prepared.forEach((item, i) => {
      const result = results[i]!;
      if (result instanceof Error) {
        this.logger.warn({ err: result, id: item.id }, 'publish failed');
        outcomes[item.index] = {
          ok: false,
          problem: Problem.brokerUnavailable,
          detail: 'The broker could not store the event in every channel. Retry with the same id: channels that have it will not get it twice.',
        };
      } else {
        outcomes[item.index] = { ok: true, id: item.id, channels: result.channels, duplicate: result.duplicate };
      }
    });
  }
}
