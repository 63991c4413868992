/**
 * GET /console: the live web console (CONSOLE_ENABLED). The page and its style sheet
 * are text in page.ts; the script is console-app, compiled by tsc into
 * dist/console-app as plain ES modules the browser loads as they are (no bundler, no
 * CDN). Everything is read once at start and served from memory.
 *
 * The page holds no secret and needs none to load: the token typed into it goes over
 * the WebSocket, where the edge decides (the stats channel needs the scope admin).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Problem } from '@herald/protocol';
import { discardBody, sendProblem } from '@herald/runtime';
import { CONSOLE_CSS, consolePage } from './page.js';

export const CONSOLE_PATH = '/console';
const APP_PREFIX = '/console/app/';
/** The compiled console-app, beside this file's directory in dist. */
const APP_DIR = fileURLToPath(new URL('../console-app/', import.meta.url));

export interface ConsoleOptions {
  /** CONSOLE_INGEST_URL: where the publish form posts; undefined: this origin. */
  ingestUrl?: string | undefined;
}

export class ConsoleRoutes {
  private readonly html: Buffer;
  private readonly css = Buffer.from(CONSOLE_CSS);
  /** URL path under /console/app/ -> compiled module. */
  private readonly scripts: ReadonlyMap<string, Buffer>;
  private readonly connectSources: string;

  constructor(options: ConsoleOptions) {
    this.html = Buffer.from(consolePage(options.ingestUrl ?? ''));
    this.scripts = readScripts(APP_DIR);
    this.connectSources = options.ingestUrl === undefined ? '' : ` ${options.ingestUrl}`;
  }

  /** Serves /console and what is under it; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendProblem(res, Problem.methodNotAllowed, `${path} accepts GET only`, undefined, { allow: 'GET, HEAD' });
      discardBody(req);
      return true;
    }
    if (path === CONSOLE_PATH) {
      res.writeHead(308, { location: `${CONSOLE_PATH}/` }).end();
      return true;
    }
    if (path === `${CONSOLE_PATH}/`) {
      this.send(req, res, 'text/html; charset=utf-8', this.html, { 'content-security-policy': this.policy(req) });
      return true;
    }
    if (path === `${CONSOLE_PATH}/console.css`) {
      this.send(req, res, 'text/css; charset=utf-8', this.css);
      return true;
    }
    const script = path.startsWith(APP_PREFIX) ? this.scripts.get(path.slice(APP_PREFIX.length)) : undefined;
    if (script !== undefined) {
      this.send(req, res, 'text/javascript; charset=utf-8', script);
      return true;
    }
    if (this.scripts.size === 0) {
      sendProblem(res, Problem.internal, 'The console script is missing from this build (services/edge/dist/console-app); build the edge package');
      return true;
    }
    sendProblem(res, Problem.notFound, `No console file at ${path}`);
    return true;
  }

  /**
   * Scripts from this origin only; the WebSocket back to the host the page came from
   * (named explicitly: not every browser lets 'self' cover ws: and wss:), and the ingest.
   */
  private policy(req: IncomingMessage): string {
    const host = req.headers.host ?? '';
    const sockets = /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
    return [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self'${sockets}${this.connectSources}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
  }

  private send(req: IncomingMessage, res: ServerResponse, type: string, body: Buffer, headers: Record<string, string> = {}): void {
    res.writeHead(200, {
      'content-type': type,
      'content-length': String(body.length),
      // Small, and replaced with every release: always fresh, never a mix of versions.
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** Every .js file under `dir`, keyed by its path relative to it with '/' separators. */
function readScripts(dir: string): Map<string, Buffer> {
  const scripts = new Map<string, Buffer>();
  if (!existsSync(dir)) return scripts;
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const full = join(current, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.js')) scripts.set(relative(dir, full).split(sep).join('/'), readFileSync(full));
    }
  };
  walk(dir);
  return scripts;
}
