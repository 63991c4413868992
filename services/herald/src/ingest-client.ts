/**
 * The two ingest calls `herald publish` makes (PROTOCOL.md section 7), over the
 * runtime's fetch. Every answer becomes either accepted results or problem documents;
 * a request that got no answer at all is a problem too (`unreachable`), so the caller
 * reports every failure the same way.
 */
import { BATCH_PATH, EVENTS_PATH } from '@herald/ingest';

export interface Accepted {
  ok: true;
  id: string;
  channels: string[];
  duplicate: boolean;
}

export interface Problem {
  ok: false;
  type: string;
  status?: number;
  title?: string;
  detail?: string;
  errors?: Array<{ field?: string; message?: string }>;
}

export type Result = Accepted | Problem;

/** A whole request failed (no answer, 401, 413...): it applies to every event it carried. */
export interface RequestFailure {
  ok: false;
  request: Problem;
  /** Nothing that follows can succeed either (no answer, refused credentials). */
  fatal: boolean;
}

export interface IngestTarget {
  /** The ingest's base URL, e.g. http://127.0.0.1:8081. */
  base: string;
  /** The bearer key or token. */
  key: string;
}

/** POST /v1/events with one event, as JSON text. */
export async function postEvent(target: IngestTarget, body: string): Promise<Result> {
  const answer = await post(target, EVENTS_PATH, body);
  if ('request' in answer) return answer.request;
  if (answer.status === 202) return accepted(answer.body);
  return problemOf(answer.status, answer.body);
}

/** POST /v1/events:batch with event texts; one result per event, in order, or a failure of the whole request. */
export async function postBatch(target: IngestTarget, events: readonly string[]): Promise<Result[] | RequestFailure> {
  const answer = await post(target, BATCH_PATH, `{"events":[${events.join(',')}]}`);
  if ('request' in answer) return answer;
  const results = (answer.body as { results?: unknown } | undefined)?.results;
  if (answer.status !== 207 || !Array.isArray(results) || results.length !== events.length) {
    const request = problemOf(answer.status, answer.body);
    return { ok: false, request, fatal: answer.status === 401 || answer.status === 403 };
  }
  return results.map((item) => {
    const status = (item as { status?: unknown }).status;
    return status === 202 ? accepted(item) : problemOf(typeof status === 'number' ? status : answer.status, item);
  });
}

/** The base URL with `path` appended (a base behind a proxy may have a path of its own). */
export function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

async function post(target: IngestTarget, path: string, body: string): Promise<{ status: number; body: unknown } | RequestFailure> {
  const url = endpoint(target.base, path);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.key}` },
      body,
    });
  } catch (error) {
    // fetch hides the reason (ECONNREFUSED, a certificate not trusted...) in `cause`.
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    const detail = `cannot reach ${url}: ${cause?.message ?? cause?.code ?? (error as Error).message}`;
    return { ok: false, request: { ok: false, type: 'unreachable', detail }, fatal: true };
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  return { status: response.status, body: parsed };
}

function accepted(body: unknown): Accepted {
  const result = body as { id?: unknown; channels?: unknown; duplicate?: unknown };
  return {
    ok: true,
    id: String(result.id),
    channels: Array.isArray(result.channels) ? result.channels.map(String) : [],
    duplicate: result.duplicate === true,
  };
}

function problemOf(status: number, body: unknown): Problem {
  const doc = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const problem: Problem = { ok: false, type: typeof doc.type === 'string' ? doc.type : `HTTP ${status}`, status };
  if (typeof doc.title === 'string') problem.title = doc.title;
  if (typeof doc.detail === 'string') problem.detail = doc.detail;
  if (Array.isArray(doc.errors)) problem.errors = doc.errors as Problem['errors'];
  return problem;
}

/** `type (status): detail [field: message; ...]`, one line. */
export function describeProblem(problem: Problem): string {
  const status = problem.status === undefined ? '' : ` (${problem.status})`;
  const detail = problem.detail ?? problem.title;
  // The ingest's detail usually names each failing field already; list them only when it does not.
  const fields = (problem.errors ?? [])
    .filter((e) => e.field === undefined || detail === undefined || !detail.includes(e.field))
    .map((e) => [e.field, e.message].filter((part) => part !== undefined).join(': '))
    .filter((s) => s !== '');
  return `${problem.type}${status}${detail === undefined ? '' : `: ${detail}`}${fields.length === 0 ? '' : ` [${fields.join('; ')}]`}`;
}
