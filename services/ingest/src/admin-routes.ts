/**
 * The ingest's admin API: `POST /v1/users/{sub}:disconnect` (PROTOCOL.md section 11).
 * Revokes the tokens of one `sub` issued before an instant (default: now) for
 * REVOCATION_TTL, and has every edge close that user's connections. Answers 202 once
 * the revocation is stored and announced.
 *
 * Checks in order: method, authentication (admin-auth.ts), the path's `sub`, media type,
 * size, JSON, the body's shape (Ajv) and the instant (not in the future).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeraldProblemError, Problem, type ProblemDefinition } from '@herald/protocol';
import { rulesAjv, toFieldErrors, type ValidateFunction } from '@herald/protocol/registry';
import { bearerToken, discardBody, mediaType, readBody, sendError, sendJson, sendProblem, type Logger } from '@herald/runtime';
import type { AdminAuthenticator } from './admin-auth.js';
import { TIMESTAMP_FORMAT, parseTimestamp } from './schemas.js';

export const USERS_PATH_PREFIX = '/v1/users/';
export const DISCONNECT_SUFFIX = ':disconnect';
/** A body holds one timestamp: anything larger is not a revocation request. */
export const MAX_ADMIN_BODY_BYTES = 4 * 1024;
/** Longest `sub` accepted in the path (after percent-decoding). */
export const MAX_SUB_LENGTH = 512;

/** Where revocations are kept and announced: the Revocations of @herald/admission. */
export interface RevocationStore {
  revoke(user: string, before: number, ttlMs: number): Promise<{ readonly before: number; readonly until: number }>;
}

export interface AdminRoutesDependencies {
  auth: AdminAuthenticator;
  revocations: RevocationStore;
  /** REVOCATION_TTL in ms. */
  revocationTtlMs: number;
  logger: Logger;
}

/** `{"revokeTokensIssuedBefore": "<ISO 8601>"}`, every field optional, nothing else. */
export const DISCONNECT_BODY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'herald:ingest/disconnect',
  title: 'Disconnect request',
  type: 'object',
  message: 'must be a JSON object',
  additionalProperties: false,
  properties: {
    revokeTokensIssuedBefore: { type: 'string', format: TIMESTAMP_FORMAT, message: 'must be an ISO 8601 date-time with a time zone' },
  },
} as const;

const validateBody: ValidateFunction = rulesAjv({ formats: { [TIMESTAMP_FORMAT]: { type: 'string', validate: (value: string) => !Number.isNaN(parseTimestamp(value)) } } }).compile(
  DISCONNECT_BODY_SCHEMA,
);

/** The request problems of this API answer 422 (the request is understood, its content refused). */
const invalidRequest: ProblemDefinition = { ...Problem.invalidRequest, status: 422 };

export class AdminRoutes {
  private readonly logger: Logger;

  constructor(private readonly deps: AdminRoutesDependencies) {
    this.logger = deps.logger.child({ service: 'ingest-admin' });
  }

  /** Handles `/v1/users/{sub}:disconnect`; returns false for any other path. */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (!path.startsWith(USERS_PATH_PREFIX) || !path.endsWith(DISCONNECT_SUFFIX)) return false;
    if (req.method !== 'POST') {
      sendProblem(res, Problem.methodNotAllowed, `${path} accepts POST only`, undefined, { allow: 'POST' });
      discardBody(req);
      return true;
    }
    this.disconnect(req, res, path).catch((error: unknown) => {
      if (!(error instanceof HeraldProblemError)) this.logger.error({ err: error }, 'disconnect request failed');
      if (!res.headersSent) sendError(res, error);
    });
    return true;
  }

  private async disconnect(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const auth = this.deps.auth.authenticate(bearerToken(req.headers.authorization));
    if (!auth.ok) {
      discardBody(req);
      throw new HeraldProblemError(auth.status === 401 ? Problem.unauthorized : Problem.forbidden, auth.reason);
    }
    const sub = subOf(path);
    if (sub === undefined) {
      discardBody(req);
      throw new HeraldProblemError(invalidRequest, `The path must be ${USERS_PATH_PREFIX}{sub}${DISCONNECT_SUFFIX} with a percent-encoded sub of 1 to ${MAX_SUB_LENGTH} characters`);
    }
    const now = Date.now();
    const requested = await this.readInstant(req);
    if (requested !== undefined && requested > now) {
      throw new HeraldProblemError(invalidRequest, `revokeTokensIssuedBefore must not be in the future (now is ${new Date(now).toISOString()})`, {
        errors: [{ field: 'revokeTokensIssuedBefore', message: 'must not be in the future' }],
      });
    }
    const before = requested ?? now;
    try {
      await this.deps.revocations.revoke(sub, before, this.deps.revocationTtlMs);
    } catch (error) {
      this.logger.warn({ err: error, sub }, 'could not store the revocation');
      throw new HeraldProblemError(Problem.brokerUnavailable, 'The revocation store is unreachable; nothing was revoked, try again');
    }
    this.logger.info({ sub, revokeTokensIssuedBefore: new Date(before).toISOString(), by: auth.principal }, 'user revoked');
    sendJson(res, 202, { sub, revokeTokensIssuedBefore: new Date(before).toISOString() });
  }

  /** The body's instant (epoch ms), or undefined for an empty body or none given. */
  private async readInstant(req: IncomingMessage): Promise<number | undefined> {
    const body = await readBody(req, MAX_ADMIN_BODY_BYTES);
    if (body.length === 0) return undefined;
    const type = mediaType(req);
    if (type !== 'application/json') throw new HeraldProblemError(Problem.unsupportedMediaType, `Content-Type must be application/json (got ${type || 'none'})`);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new HeraldProblemError(Problem.invalidJson, `The body is not valid JSON: ${(error as Error).message}`);
    }
    if (!validateBody(value)) {
      const errors = toFieldErrors(validateBody.errors ?? []);
      throw new HeraldProblemError(invalidRequest, `The body must be {"revokeTokensIssuedBefore": "<ISO 8601>"}: ${errors.map((e) => `${e.field || 'body'} ${e.message}`).join('; ')}`, { errors });
    }
    const instant = (value as { revokeTokensIssuedBefore?: string }).revokeTokensIssuedBefore;
    return instant === undefined ? undefined : parseTimestamp(instant);
  }
}

/** The percent-decoded `sub` of `/v1/users/{sub}:disconnect`, or undefined when unusable. */
function subOf(path: string): string | undefined {
  const encoded = path.slice(USERS_PATH_PREFIX.length, path.length - DISCONNECT_SUFFIX.length);
  let sub: string;
  try {
    sub = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  return sub.length === 0 || sub.length > MAX_SUB_LENGTH ? undefined : sub;
}
