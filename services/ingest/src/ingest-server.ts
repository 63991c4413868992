/**
 * The ingest HTTP API (PROTOCOL.md section 7): POST /v1/events and
 * POST /v1/events:batch. Checks run in this order: method, authentication, media
 * type, size, UTF-8, JSON, input limits (nesting depth, exact numbers, unique keys),
 * then validation and publishing per event.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldProblemError, Problem, parseJsonInput, problemDocument, type JsonInput, type JsonInputViolation, type ProblemDocument } from '@herald/protocol';
import { bearerToken, discardBody, mediaType, readBody, sendError, sendJson, sendProblem, type Logger } from '@herald/runtime';
import { toFieldErrors, type ErrorObject } from '@herald/protocol/registry';
import type { IngestAuthenticator } from './ingest-auth.js';
import { rejectInput, type EventPublisher, type IncomingEvent, type Outcome } from './publisher.js';
import { EVENT_ID_PATTERN, MAX_BATCH_EVENTS, validateBatchBody } from './schemas.js';

export { MAX_BATCH_EVENTS } from './schemas.js';

export const EVENTS_PATH = '/v1/events';
export const BATCH_PATH = '/v1/events:batch';
export const MAX_BODY_BYTES = 256 * 1024;
/** Levels above an event's `data` in a single body: the event object. */
const SINGLE_DEPTH_BASE = 1;
/** Levels above an event's `data` in a batch body: the body, `events`, the event. */
const BATCH_DEPTH_BASE = 3;
const BATCH_EVENT_PATH = /^events\[(\d+)\]/;

export interface IngestServerDependencies {
  publisher: EventPublisher;
  auth: IngestAuthenticator;
  logger: Logger;
  /** INGEST_MAX_DEPTH: nesting allowed in an event's `data`. */
  maxDepth: number;
}

export class IngestServer {
  private readonly logger: Logger;

  constructor(private readonly deps: IngestServerDependencies) {
    this.logger = deps.logger.child({ service: 'ingest' });
  }

  /** Handles the ingest paths; returns false for any other path. */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== EVENTS_PATH && path !== BATCH_PATH) return false;
    if (req.method !== 'POST') {
      sendProblem(res, Problem.methodNotAllowed, `${path} accepts POST only`, undefined, { allow: 'POST' });
      discardBody(req);
      return true;
    }
    const work = path === EVENTS_PATH ? this.single(req, res) : this.batch(req, res);
    work.catch((error: unknown) => {
      if (!(error instanceof HeraldProblemError)) this.logger.error({ err: error, path }, 'ingest request failed');
      if (!res.headersSent) sendError(res, error);
    });
    return true;
  }

  private async single(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { value: body, violations } = await this.readJson(req, SINGLE_DEPTH_BASE);
    const header = req.headers['idempotency-key'];
    const idOverride = Array.isArray(header) ? header[0] : header;
    if (idOverride !== undefined && !EVENT_ID_PATTERN.test(idOverride)) {
      throw new HeraldProblemError(Problem.validationFailed, 'The Idempotency-Key header must be 1 to 128 letters, digits, "_", "-", "." or ":"', {
        errors: [{ field: 'Idempotency-Key', message: 'must be 1 to 128 letters, digits, "_", "-", "." or ":"' }],
      });
    }
    const incoming: IncomingEvent = { raw: body, inputViolations: violations, ...(idOverride === undefined ? {} : { idOverride }) };
    const [outcome] = await this.deps.publisher.accept([incoming], 'http');
    if (outcome!.ok) {
      sendJson(res, 202, { id: outcome!.id, channels: outcome!.channels, duplicate: outcome!.duplicate });
      return;
    }
    const rejected = outcome!;
    const retry: Record<string, string> = rejected.problem === Problem.brokerUnavailable ? { 'retry-after': '1' } : {};
    sendProblem(res, rejected.problem, rejected.detail, rejected.errors ? { errors: rejected.errors } : undefined, retry);
  }

  private async batch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { value: body, violations } = await this.readJson(req, BATCH_DEPTH_BASE);
    // Input-limit findings inside one event fail that event only; elsewhere, the request.
    const perEvent = new Map<number, JsonInputViolation[]>();
    const outside: JsonInputViolation[] = [];
    for (const violation of violations) {
      const match = BATCH_EVENT_PATH.exec(violation.path);
      if (match === null) outside.push(violation);
      else {
        const index = Number(match[1]);
        const list = perEvent.get(index);
        if (list) list.push(violation);
        else perEvent.set(index, [violation]);
      }
    }
    if (outside.length > 0) {
      const refused = rejectInput(outside);
      throw new HeraldProblemError(refused.problem, refused.detail, { errors: refused.errors });
    }
    if (!validateBatchBody(body)) throw batchBodyProblem(validateBatchBody.errors ?? [], body);
    const events = (body as { events: unknown[] }).events;
    const outcomes = await this.deps.publisher.accept(
      events.map((raw, index) => ({ raw, fieldPrefix: `events[${index}]`, inputViolations: perEvent.get(index) ?? [] })),
      'http',
    );
    sendJson(res, 207, { results: outcomes.map(toBatchResult) });
  }

  private async readJson(req: IncomingMessage, depthBase: number): Promise<JsonInput> {
    const auth = this.deps.auth.authenticate(bearerToken(req.headers.authorization));
    if (!auth.ok) {
      discardBody(req);
      throw new HeraldProblemError(Problem.unauthorized, auth.reason);
    }
    const type = mediaType(req);
    if (type !== 'application/json') {
      discardBody(req);
      throw new HeraldProblemError(Problem.unsupportedMediaType, `Content-Type must be application/json (got ${type || 'none'})`);
    }
    const charset = charsetOf(req);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      discardBody(req);
      throw new HeraldProblemError(Problem.unsupportedMediaType, `JSON is UTF-8 (RFC 8259 section 8.1); charset=${charset} is not accepted`);
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    // Decoding would replace bad bytes with U+FFFD: a value altered, not carried.
    if (!isUtf8(body)) throw new HeraldProblemError(Problem.invalidRequest, 'The body is not valid UTF-8 (RFC 8259 section 8.1)');
    try {
      return parseJsonInput(body.toString('utf8'), { maxDepth: this.deps.maxDepth, depthBase });
    } catch (error) {
      throw new HeraldProblemError(Problem.invalidJson, `The body is not valid JSON: ${(error as Error).message}`);
    }
  }
}

/**
 * A batch body that breaks BATCH_BODY_SCHEMA, by the first rule it breaks in this order:
 * its shape (an object with an `events` array), the number of events, unknown fields.
 */
function batchBodyProblem(errors: readonly ErrorObject[], body: unknown): HeraldProblemError {
  if (errors.some((error) => error.keyword === 'type' || error.keyword === 'required')) {
    return new HeraldProblemError(Problem.validationFailed, 'The body must be {"events": [...]}', { errors: [{ field: 'events', message: 'must be an array of events' }] });
  }
  if (errors.some((error) => error.keyword === 'minItems' || error.keyword === 'maxItems')) {
    const count = (body as { events: unknown[] }).events.length;
    return new HeraldProblemError(Problem.validationFailed, `A batch holds 1 to ${MAX_BATCH_EVENTS} events (got ${count})`, {
      errors: [{ field: 'events', message: `must hold 1 to ${MAX_BATCH_EVENTS} events` }],
    });
  }
  const unknown = toFieldErrors(errors);
  return new HeraldProblemError(Problem.validationFailed, `Unknown field(s): ${unknown.map((error) => error.field).join(', ')}`, { errors: unknown });
}

/** The `charset` parameter of Content-Type, lower-cased, if any. */
function charsetOf(req: IncomingMessage): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '');
  return match?.[1]?.toLowerCase();
}

type BatchResult = { status: 202; id: string; channels: readonly string[]; duplicate: boolean } | ProblemDocument;

function toBatchResult(outcome: Outcome): BatchResult {
  if (outcome.ok) return { status: 202, id: outcome.id, channels: outcome.channels, duplicate: outcome.duplicate };
  return problemDocument(outcome.problem, outcome.detail, outcome.errors ? { errors: outcome.errors } : undefined);
}
