/**
 * CORS for the edge's web console (CONSOLE_ORIGINS), on the event API only: a console
 * served by an edge on another origin than the ingest posts its test events here from
 * the browser. Exact origins only, never `*`, and no cookies are involved (the
 * credential is a bearer the page sends), so `Access-Control-Allow-Credentials` stays
 * off. Without CONSOLE_ORIGINS nothing here runs and browsers keep the same-origin rule.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BATCH_PATH, EVENTS_PATH } from './ingest-server.js';

const EVENT_PATHS = new Set([EVENTS_PATH, BATCH_PATH]);

/**
 * A route that answers the preflight (OPTIONS) of an allowed origin, and adds the CORS
 * header to that origin's POSTs before the event API answers them (returns false).
 */
export function consoleCors(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  const allowed = new Set(origins);
  return (req, res, path) => {
    if (!EVENT_PATHS.has(path)) return false;
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    if (req.method !== 'OPTIONS') return false;
    res.writeHead(204, {
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, idempotency-key',
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  };
}
