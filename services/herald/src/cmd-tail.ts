/**
 * `herald tail <channel>...` (PROTOCOL.md section 13): the client SDK subscribed to the
 * channels, each event printed on one line. The SDK reconnects with backoff and
 * resubscribes with `since` = the last seq it delivered, and drops what it already
 * delivered, so a restarted or drained edge node costs no event and repeats none.
 * Events go to stdout; everything else (connection notices, continuity-lost, refusals)
 * to stderr, so `--output json | jq` sees only envelopes.
 */
import { HeraldClient, type HeraldError, type Subscription } from '@herald/client';
import { isValidChannel } from '@herald/protocol';
import { parseDuration } from '@herald/runtime';
import { parseCommandArgs, urlSetting } from './args.js';
import { EXIT_FAILURE, EXIT_OK, usageError } from './help.js';
import { FrameCapture } from './tail-frames.js';
import { TAIL_OUTPUTS, formatEvent, type TailOutput } from './tail-output.js';
import { mintToken } from './tokens.js';

const DEFAULT_EDGE_URL = 'ws://127.0.0.1:8080';
/** Lifetime of a minted token; a new one is minted whenever the SDK asks (after 1008 or 401). */
const MINTED_TTL_SECONDS = 3600;
/** After SIGINT, how long the closing handshake may take before the process just ends. */
const EXIT_GRACE_MS = 3000;

export async function tailCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values, positionals } = parseCommandArgs('tail', args, { since: { type: 'string', multiple: true }, output: { type: 'string' } }, true);
  const channels = [...new Set(positionals)];
  if (channels.length === 0) usageError('tail', 'name at least one channel, e.g. herald tail merchant:m_42');
  for (const channel of channels) if (!isValidChannel(channel)) usageError('tail', `invalid channel name ${JSON.stringify(channel)}`);
  const output = (values.output as string | undefined) ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (!TAIL_OUTPUTS.includes(output as TailOutput)) usageError('tail', `--output must be pretty or json (got ${JSON.stringify(output)})`);
  const since = sinceByChannel(channels, (values.since as string[] | undefined) ?? []);
  const url = edgeUrl(env);
  const auth = credentials(env, channels);

  const frames = new FrameCapture();
  const client = new HeraldClient({ url, transport: frames.transport, ...auth });
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    await client.close().catch(() => {});
  };
  const notice = (message: string): void => {
    process.stderr.write(`herald tail: ${message}\n`);
  };

  client.on('connected', (info) => notice(`${info.reconnected ? 'reconnected' : 'connected'} to ${info.url} (node ${info.node})`));
  client.on('reconnecting', ({ attempt, delay, code }) => notice(`connection lost${code === undefined ? '' : ` (${code})`}; reconnecting in ${delay} ms (attempt ${attempt})`));
  client.on('error', (error: HeraldError) => {
    // Transport errors repeat on every failed attempt; `reconnecting` already says so.
    if (error.kind !== 'transport') notice(`${error.problemType ?? error.kind}: ${error.message}`);
  });
  client.on('closed', ({ code, reason }) => {
    if (stopping) return;
    notice(`connection closed for good (${code}${reason ? `: ${reason}` : ''})`);
    void stop(EXIT_FAILURE);
  });

  const subscriptions: Subscription[] = channels.map((channel) => {
    const sub = client.subscribe(channel, since.has(channel) ? { since: since.get(channel)! } : {});
    sub.on('event', (event) => {
      process.stdout.write(`${formatEvent(event, output as TailOutput, frames.frameOf(event))}\n`);
    });
    sub.on('subscribed', ({ recovered, missed, resubscribed, since: from }) => {
      if (from !== undefined && recovered) notice(`${channel}: resumed after ${from}, ${missed} missed event(s) replayed`);
      else if (!resubscribed) notice(`${channel}: subscribed`);
    });
    sub.on('continuity-lost', ({ since: from, message }) => {
      notice(`${channel}: continuity lost after seq ${from ?? '(start)'}: events were missed and cannot be replayed (${message})`);
    });
    sub.on('error', (error) => {
      notice(`${channel}: ${error.problemType ?? error.kind}: ${error.message}`);
      if (subscriptions.every((s) => s.state === 'failed')) void stop(EXIT_FAILURE);
    });
    return sub;
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(EXIT_OK));
  // `herald tail ... | head -3`: once the reader is gone there is nobody to print for.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') void stop(EXIT_OK);
  });
  // A refused first connection is reported through `closed` (or retried); nothing to do here.
  client.connect().catch(() => {});
}

/** `--since SEQ` applies to every channel; `--since CHANNEL=SEQ` to one. */
function sinceByChannel(channels: readonly string[], given: readonly string[]): Map<string, string> {
  const since = new Map<string, string>();
  for (const item of given) {
    const equals = item.indexOf('=');
    if (equals === -1) {
      for (const channel of channels) if (!since.has(channel)) since.set(channel, item);
      continue;
    }
    const channel = item.slice(0, equals);
    if (!channels.includes(channel)) usageError('tail', `--since ${item}: ${channel} is not one of the channels tailed`);
    since.set(channel, item.slice(equals + 1));
  }
  for (const [channel, seq] of since) if (seq === '') usageError('tail', `--since for ${channel} is empty`);
  return since;
}

function edgeUrl(env: NodeJS.ProcessEnv): string {
  // http(s) is accepted too: the client turns it into ws(s).
  return urlSetting('tail', 'EDGE_URL', env.EDGE_URL || DEFAULT_EDGE_URL, ['ws:', 'wss:', 'http:', 'https:'], 'a ws:// or wss://');
}

/** HERALD_TOKEN as given, or tokens minted with JWT_SECRET for just these channels. */
function credentials(env: NodeJS.ProcessEnv, channels: string[]): { token: string } | { getToken: () => string } {
  if (env.HERALD_TOKEN) return { token: env.HERALD_TOKEN };
  const secret = env.JWT_SECRET;
  if (!secret) usageError('tail', 'HERALD_TOKEN (a client token) or JWT_SECRET (to mint one) must be set');
  // An edge with JWT_MAX_TTL refuses longer-lived tokens: stay within it.
  const maxTtl = env.JWT_MAX_TTL ? parseDuration(env.JWT_MAX_TTL) : undefined;
  const ttlSeconds = maxTtl === undefined ? MINTED_TTL_SECONDS : Math.max(1, Math.min(MINTED_TTL_SECONDS, Math.floor(maxTtl / 1000)));
  return {
    getToken: () =>
      mintToken(secret, {
        sub: 'herald-tail',
        channels,
        ttlSeconds,
        ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
        ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
      }),
  };
}
