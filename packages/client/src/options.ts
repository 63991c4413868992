/**
 * Client options, their defaults and their validation.
 */
import { WEBSOCKET_PATH } from '@herald/protocol';
import { resolveBackoff, type BackoffOptions, type ResolvedBackoff } from './backoff.js';
import { defaultTimers, type Timers } from './clock.js';
import type { ClientFormat } from './codec.js';
import type { TransportFactory, WebSocketConstructor } from './transport.js';

/** What a URL provider is told before each connection attempt. */
export interface UrlRequest {
  /** The URL of the previous attempt (undefined for the first one). */
  previous: string | undefined;
  /** How the previous attempt ended: its close code (1001 = that node is draining). */
  code: number | undefined;
  /** Consecutive failed attempts so far (0 after a connection that lasted). */
  attempt: number;
}

/** A URL provider: asked before every connection attempt. */
export type UrlProvider = (request: UrlRequest) => string | Promise<string>;

export interface ClientOptions {
  /**
   * Where to connect: `wss://host/v1/ws` (an `http(s)` URL or a bare origin works too; a
   * missing path becomes `/v1/ws`).
   *
   * - one URL: every attempt goes there (a load balancer picks the node);
   * - a list of node URLs: the first attempt picks one at random (a fleet of clients
   *   spreads evenly), and every reconnect picks at random among the *others*, so a
   *   client told to go away (1001, node draining) or refused never retries the same
   *   node at once;
   * - a function: asked before every attempt with the previous URL and close code
   *   (service discovery); it may return a promise.
   */
  url: string | readonly string[] | UrlProvider;
  /**
   * The wire format: `json` (subprotocol `v1.json`, the default) or `protobuf`
   * (`v1.protobuf`, binary frames, smaller events). Events, replies and reconnects look
   * the same to the application either way. `protobuf` needs the client from
   * `@herald/client/protobuf`, so that JSON users never load the protobuf runtime.
   */
  format?: ClientFormat;
  /** The JWT to connect with. Without it, `getToken()` is asked before the first connect. */
  token?: string;
  /**
   * Returns a fresh token. Called before the first connect when `token` is absent, and
   * after the server refused the token (close 1008, or HTTP 401 where visible), always
   * after the backoff delay. Without it, a refused token ends the client (`closed`).
   */
  getToken?: () => string | Promise<string>;
  /** A WHATWG `WebSocket` constructor to use instead of the platform's (token goes in the query). */
  WebSocket?: WebSocketConstructor;
  /** A custom transport (advanced; tests, or `wsTransport()` to force `ws` on Node 22+). */
  transport?: TransportFactory;
  /** Reconnect backoff (exponential, full jitter). */
  backoff?: BackoffOptions;
  /** Application-ping interval in ms; default: the server's `pingInterval` from `connected`. */
  pingInterval?: number;
  /** Silence after which the link is declared dead, in ms; default: the server's `readTimeout`. */
  readTimeout?: number;
  /** Send application-level `ping` commands on idle connections. Default true. */
  appPing?: boolean;
  /** Time to wait for a command's reply, in ms. Default 10000. */
  commandTimeout?: number;
  /** Time from starting a connection to its `connected` frame, in ms. Default 10000. */
  connectTimeout?: number;
  /** Time `close()` waits for the closing handshake before dropping the socket, in ms. Default 2000. */
  closeTimeout?: number;
  /** Client-side command pacing (server default limit: 50/s). Default 40; `Infinity` disables. */
  maxCommandsPerSecond?: number;
  /** Uniform random numbers in [0, 1), for the jitter. Default `Math.random`. */
  random?: () => number;
  /** Timers and clock. Default: the platform's `setTimeout`, `clearTimeout`, `Date.now`. */
  timers?: Timers;
}

export interface ResolvedOptions {
  /** Normalised URLs (at least one), or a provider whose answers are normalised per attempt. */
  url: readonly string[] | UrlProvider;
  format: ClientFormat;
  token: string | undefined;
  getToken: (() => string | Promise<string>) | undefined;
  backoff: ResolvedBackoff;
  pingInterval: number | undefined;
  readTimeout: number | undefined;
  appPing: boolean;
  commandTimeout: number;
  connectTimeout: number;
  closeTimeout: number;
  maxCommandsPerSecond: number;
  random: () => number;
  timers: Timers;
}

/** Fallbacks when the `connected` frame does not say (it always should). */
export const DEFAULT_PING_INTERVAL = 30_000;
export const DEFAULT_READ_TIMEOUT = 60_000;

export function resolveOptions(options: ClientOptions): ResolvedOptions {
  return {
    url: resolveUrls(options.url),
    format: resolveFormat(options.format),
    token: options.token,
    getToken: options.getToken,
    backoff: resolveBackoff(options.backoff),
    pingInterval: positive('pingInterval', options.pingInterval),
    readTimeout: positive('readTimeout', options.readTimeout),
    appPing: options.appPing ?? true,
    commandTimeout: positive('commandTimeout', options.commandTimeout) ?? 10_000,
    connectTimeout: positive('connectTimeout', options.connectTimeout) ?? 10_000,
    closeTimeout: positive('closeTimeout', options.closeTimeout) ?? 2_000,
    maxCommandsPerSecond: positive('maxCommandsPerSecond', options.maxCommandsPerSecond) ?? 40,
    random: options.random ?? Math.random,
    timers: options.timers ?? defaultTimers,
  };
}

function resolveUrls(url: ClientOptions['url']): readonly string[] | UrlProvider {
  if (typeof url === 'function') return url;
  const list = typeof url === 'string' ? [url] : [...url];
  if (list.length === 0) throw new TypeError('url: the list of URLs is empty');
  return list.map(normaliseUrl);
}

function resolveFormat(format: ClientFormat | undefined): ClientFormat {
  if (format === undefined) return 'json';
  if (format !== 'json' && format !== 'protobuf') throw new TypeError(`format must be 'json' or 'protobuf' (got ${JSON.stringify(format)})`);
  return format;
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!(value > 0)) throw new RangeError(`${name} must be a positive number`);
  return value;
}

/** `https://h` -> `wss://h/v1/ws`; `ws://h:8080/` -> `ws://h:8080/v1/ws`; other paths are kept. */
export function normaliseUrl(input: string): string {
  const url = new URL(input);
  if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`Unsupported URL scheme in ${input}`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = WEBSOCKET_PATH;
  return url.toString();
}
