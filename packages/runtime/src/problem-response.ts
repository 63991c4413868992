/**
 * One problem as an HTTP response (RFC 9457): its status, headers and body. Every HTTP
 * refusal goes through here, whether Node gives a response object (`sendProblem`) or
 * only the raw socket (`refuseRaw`), so both say the same thing the same way.
 */
import { PROBLEM_CONTENT_TYPE, problemDocument, type ProblemDefinition } from '@herald/protocol';

export interface ProblemResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function problemResponse(
  definition: ProblemDefinition,
  detail?: string,
  extensions?: Record<string, unknown>,
  headers: Readonly<Record<string, string>> = {},
): ProblemResponse {
  const body = JSON.stringify(problemDocument(definition, detail, extensions));
  return {
    status: definition.status,
    headers: {
      'content-type': PROBLEM_CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      // RFC 9110: a 401 names the scheme the client must use.
      ...(definition.status === 401 ? { 'www-authenticate': 'Bearer realm="herald"' } : {}),
      ...headers,
    },
    body,
  };
}
