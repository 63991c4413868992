/**
 * The problem catalogue: every error Herald reports, over HTTP (RFC 9457 problem
 * documents) or in a WebSocket `error` frame, is spelled once here.
 */
export interface ProblemDefinition {
  /** The problem type URI, `/problems/<name>`. */
  readonly type: `/problems/${string}`;
  /** A short, human-readable summary that does not change between occurrences. */
  readonly title: string;
  /** HTTP status when the problem is reported over HTTP. */
  readonly status: number;
}

// How a problem ends a connection, when it does, is in the table of disconnects (disconnects.ts).
function problem(name: string, title: string, status: number): ProblemDefinition {
  return { type: `/problems/${name}`, title, status };
}

export const Problem = {
  // Handshake and HTTP
  notFound: problem('not-found', 'Not found', 404),
  methodNotAllowed: problem('method-not-allowed', 'Method not allowed', 405),
  forbiddenOrigin: problem('forbidden-origin', 'Origin not allowed', 403),
  unauthorized: problem('unauthorized', 'Unauthorized', 401),
  unsupportedProtocol: problem('unsupported-protocol', 'Unsupported subprotocol', 400),
  upgradeRequired: problem('upgrade-required', 'WebSocket upgrade required', 426),
  invalidRequest: problem('invalid-request', 'Invalid request', 400),
  requestTimeout: problem('request-timeout', 'Request timeout', 408),
  uriTooLong: problem('uri-too-long', 'URI too long', 414),
  requestHeaderFieldsTooLarge: problem('request-header-fields-too-large', 'Request header fields too large', 431),
  notReady: problem('not-ready', 'Not ready', 503),
  // WebSocket session
  forbidden: problem('forbidden', 'Forbidden', 403),
  invalidMessage: problem('invalid-message', 'Invalid message', 400),
  invalidChannel: problem('invalid-channel', 'Invalid channel', 400),
  unknownType: problem('unknown-type', 'Unknown message type', 400),
  tooManySubscriptions: problem('too-many-subscriptions', 'Too many subscriptions', 429),
  rateLimited: problem('rate-limited', 'Rate limited', 429),
  reachMaximumConnections: problem('reach-maximum-connections', 'Maximum number of connections reached', 503),
  continuityLost: problem('continuity-lost', 'Continuity lost', 410),
  internal: problem('internal', 'Internal error', 500),
  // Ingest API
  invalidJson: problem('invalid-json', 'Invalid JSON', 400),
  unsupportedMediaType: problem('unsupported-media-type', 'Unsupported media type', 415),
  payloadTooLarge: problem('payload-too-large', 'Payload too large', 413),
  validationFailed: problem('validation-failed', 'Validation failed', 422),
  invalidEvent: problem('invalid-event', 'Invalid event', 422),
  unknownEventType: problem('unknown-event-type', 'Unknown event type', 422),
  brokerUnavailable: problem('broker-unavailable', 'Broker unavailable', 503),
} as const satisfies Record<string, ProblemDefinition>;

export type ProblemName = keyof typeof Problem;
export type ProblemType = (typeof Problem)[ProblemName]['type'];

/** One failing field of a validation problem. */
export interface FieldError {
  /** Dotted path of the failing field, for example `data.amount` or `events[3].type`. */
  readonly field: string;
  readonly message: string;
}

/** An RFC 9457 problem document, as the HTTP endpoints answer it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: readonly FieldError[];
  [extension: string]: unknown;
}

export function problemDocument(
  definition: ProblemDefinition,
  detail?: string,
  extensions?: Record<string, unknown>,
): ProblemDocument {
  const doc: ProblemDocument = { type: definition.type, title: definition.title, status: definition.status };
  if (detail !== undefined) doc.detail = detail;
  if (extensions) Object.assign(doc, extensions);
  return doc;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error that carries its problem definition, so handlers can answer it as it is. */
export class HeraldProblemError extends Error {
  readonly problem: ProblemDefinition;
  readonly detail: string;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(definition: ProblemDefinition, detail: string, extensions?: Record<string, unknown>) {
    super(`${definition.type}: ${detail}`);
    this.name = 'HeraldProblemError';
    this.problem = definition;
    this.detail = detail;
    this.extensions = extensions;
  }

  toDocument(): ProblemDocument {
    return problemDocument(this.problem, this.detail, this.extensions);
  }
}
