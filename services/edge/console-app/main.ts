/**
 * The console page: sign in with a token, hold one WebSocket to this edge, subscribe to
 * `_herald:stats` (every node's stats, through the broker) and, on demand, to a channel
 * to tail. Whether the token may see the stats is the edge's decision: a token without
 * the scope admin gets `forbidden` on that subscribe, and the page says so and signs out.
 *
 * The token lives in this tab only (sessionStorage): gone when the tab closes.
 */
import { ClusterView, HISTORY_POINTS, parseNodeStats } from '../src/stats/aggregate.js';
import { STATS_CHANNEL_NAME } from '../src/stats/node-stats.js';
import { drawDashboard, element, setText } from './dashboard.js';
import { Link, type Frame } from './link.js';
import { setUpPublishForm } from './publish.js';
import { Tail } from './tail.js';

const TOKEN_KEY = 'herald.console.token';
const FORBIDDEN = '/problems/forbidden';

let link: Link | undefined;
let token: string | undefined;
let view = new ClusterView();
let statsId: string | undefined;
let tailId: string | undefined;
let signedIn = false;
const tail = new Tail();

function signIn(value: string): void {
  token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
  setText('signin-error', '');
  status('connecting', '');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  link = new Link(`${scheme}://${location.host}/v1/ws?access_token=${encodeURIComponent(value)}`, { onOpen, onFrame, onClose });
  link.open();
}

function signOut(message: string): void {
  link?.stop();
  link = undefined;
  token = undefined;
  signedIn = false;
  sessionStorage.removeItem(TOKEN_KEY);
  view = new ClusterView();
  element('dashboard').hidden = true;
  element('signin').hidden = false;
  element('signout').hidden = true;
  setText('signin-error', message);
  status('signed out', '');
}

function onOpen(): void {
  status('connected', '');
}

function onFrame(frame: Frame): void {
  const channel = typeof frame.channel === 'string' ? frame.channel : undefined;
  switch (frame.type) {
    case 'connected':
      statsId = link?.send('subscribe', { channel: STATS_CHANNEL_NAME }, 'stats');
      if (tail.channel !== undefined) tailId = link?.send('subscribe', { channel: tail.channel }, 'tail');
      return;
    case 'subscribed':
      if (frame.replyTo === statsId) {
        signedIn = true;
        element('signin').hidden = true;
        element('dashboard').hidden = false;
        element('signout').hidden = false;
        status('live', 'live');
      } else if (frame.replyTo === tailId) {
        tail.status(`Tailing ${tail.channel ?? ''}: newest first`);
      }
      return;
    case 'error':
      onError(frame);
      return;
    default:
      if (channel === STATS_CHANNEL_NAME) {
        const stats = parseNodeStats(frame.data);
        if (stats !== undefined) view.add(stats, Date.now());
      } else if (channel !== undefined && channel === tail.channel && typeof frame.seq === 'string') {
        tail.add(frame);
      }
  }
}

function onError(frame: Frame): void {
  const error = (frame.error ?? {}) as { type?: string; message?: string };
  const message = error.message ?? error.type ?? 'error';
  if (frame.replyTo !== undefined && frame.replyTo === statsId) {
    // The edge refused the stats channel: the page shows nothing without it.
    signOut(error.type === FORBIDDEN ? `Refused: this token does not have the scope admin (the edge answered: ${message}).` : `Refused: ${message}`);
    return;
  }
  if (frame.replyTo !== undefined && frame.replyTo === tailId) {
    tail.status(`Cannot tail ${tail.channel ?? ''}: ${message}`);
    return;
  }
  if (error.type === '/problems/unauthorized') signOut(`Signed out: ${message}`);
}

function onClose(code: number, reason: string, opened: boolean): void {
  if (link === undefined) return;
  if (!opened && !signedIn) {
    signOut('The edge refused the connection: the token is invalid or expired (or the edge cannot be reached).');
    return;
  }
  if (code === 1008) {
    signOut(`Signed out by the edge: ${reason || 'policy'} (1008). Sign in with a new token.`);
    return;
  }
  status(`reconnecting (${code})`, 'down');
}

function status(text: string, kind: '' | 'live' | 'down'): void {
  const badge = element('status');
  badge.textContent = text;
  badge.className = `status ${kind}`.trim();
}

function setUp(): void {
  element('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = (element('token') as HTMLTextAreaElement).value.trim();
    if (value !== '') signIn(value);
  });
  element('signout').addEventListener('click', () => signOut(''));
  element('tail-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const channel = (element('tail-channel') as HTMLInputElement).value.trim();
    if (channel === '' || channel === tail.channel) return;
    if (tail.channel !== undefined) link?.send('unsubscribe', { channel: tail.channel }, 'untail');
    tail.follow(channel);
    tailId = link?.send('subscribe', { channel }, 'tail');
  });
  const ingestUrl = document.querySelector<HTMLMetaElement>('meta[name="herald-ingest-url"]')?.content ?? '';
  setUpPublishForm(ingestUrl, () => token);
  setInterval(() => {
    if (!signedIn) return;
    const now = Date.now();
    const totals = view.sample(now);
    drawDashboard(totals, view.rows(now), view.history, HISTORY_POINTS);
  }, 1000);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved !== null) signIn(saved);
}

setUp();
