/**
 * `herald publish` (PROTOCOL.md section 13): one event from --type/--data/--id, or
 * NDJSON on stdin in batches. One stdout line per accepted event (the ingest's own
 * answer: id, channels, duplicate), one stderr line per failure; exit 1 if any failed.
 */
import { parseCommandArgs, urlSetting } from './args.js';
import { EXIT_FAILURE, usageError } from './help.js';
import { describeProblem, postBatch, postEvent, type IngestTarget, type Problem, type Result } from './ingest-client.js';
import { readBatches, type InputEvent } from './publish-input.js';
import { mintToken } from './tokens.js';

const DEFAULT_INGEST_URL = 'http://127.0.0.1:8081';

export async function publishCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseCommandArgs('publish', args, {
    type: { type: 'string' },
    data: { type: 'string' },
    id: { type: 'string' },
  });
  const target = ingestTarget(env);
  const type = values.type as string | undefined;
  const data = values.data as string | undefined;
  const id = values.id as string | undefined;
  const counts = { sent: 0, failed: 0 };
  if (type !== undefined || data !== undefined || id !== undefined) await publishOne(target, { type, data, id }, counts);
  else {
    if (process.stdin.isTTY) usageError('publish', 'nothing to publish: give --type and --data, or pipe NDJSON events (one object per line) on stdin');
    await publishStream(target, process.stdin, counts);
  }
  if (counts.failed > 0) {
    if (counts.sent > 1) process.stderr.write(`herald publish: ${counts.failed} of ${counts.sent} events failed\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

/** INGEST_URL and the bearer: INGEST_API_KEY, or a short-lived publish token minted with JWT_SECRET. */
function ingestTarget(env: NodeJS.ProcessEnv): IngestTarget {
  const base = urlSetting('publish', 'INGEST_URL', env.INGEST_URL || DEFAULT_INGEST_URL, ['http:', 'https:'], 'an http:// or https://');
  if (env.INGEST_API_KEY) return { base, key: env.INGEST_API_KEY };
  if (env.JWT_SECRET) {
    const key = mintToken(env.JWT_SECRET, {
      sub: 'herald-publish',
      scope: 'events:publish',
      ttlSeconds: 300,
      ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
      ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
    });
    return { base, key };
  }
  usageError('publish', 'INGEST_API_KEY must be set (one of the ingest\'s INGEST_API_KEYS, or a token with scope events:publish), or JWT_SECRET to mint one');
}

async function publishOne(target: IngestTarget, event: { type: string | undefined; data: string | undefined; id: string | undefined }, counts: { sent: number; failed: number }): Promise<void> {
  if (event.type === undefined || event.data === undefined) usageError('publish', '--type and --data go together (or pipe NDJSON on stdin without them)');
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch (error) {
    usageError('publish', `--data is not JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) usageError('publish', '--data must be a JSON object');
  // The data text goes as given: a number is not rounded through a double on the way.
  const body = `{"type":${JSON.stringify(event.type)},${event.id === undefined ? '' : `"id":${JSON.stringify(event.id)},`}"data":${event.data.trim()}}`;
  counts.sent++;
  report(await postEvent(target, body), undefined, event.id, counts);
}

async function publishStream(target: IngestTarget, input: NodeJS.ReadableStream, counts: { sent: number; failed: number }): Promise<void> {
  for await (const item of readBatches(input)) {
    if ('bad' in item) {
      counts.sent++;
      counts.failed++;
      process.stderr.write(`herald publish: line ${item.bad.line}: ${item.bad.reason}\n`);
      continue;
    }
    const batch = item.batch;
    counts.sent += batch.length;
    const results = await postBatch(target, batch.map((event) => event.text));
    if (Array.isArray(results)) {
      results.forEach((result, index) => report(result, batch[index]!.line, batch[index]!.id, counts));
      continue;
    }
    // The whole request failed: every event it carried did.
    counts.failed += batch.length;
    process.stderr.write(`herald publish: ${lineRange(batch)}: ${describeProblem(results.request)}\n`);
    if (results.fatal) {
      process.stderr.write(`herald publish: stopped: the input after line ${batch.at(-1)!.line} was not sent\n`);
      return;
    }
  }
}

function report(result: Result, line: number | undefined, id: string | undefined, counts: { failed: number }): void {
  if (result.ok) {
    process.stdout.write(`${JSON.stringify({ id: result.id, channels: result.channels, duplicate: result.duplicate })}\n`);
    return;
  }
  counts.failed++;
  process.stderr.write(`herald publish: ${where(line, id)}${describeProblem(result as Problem)}\n`);
}

function where(line: number | undefined, id: string | undefined): string {
  const parts = [line === undefined ? undefined : `line ${line}`, id === undefined ? undefined : `id ${id}`].filter((p) => p !== undefined);
  return parts.length === 0 ? '' : `${parts.join(', ')}: `;
}

function lineRange(batch: readonly InputEvent[]): string {
  const first = batch[0]!.line;
  const last = batch.at(-1)!.line;
  return first === last ? `line ${first}` : `lines ${first}-${last} (${batch.length} events)`;
}
