/**
 * Lone script calls of concurrent callers, sent to one Redis together.
 *
 * An ingest answering one event per HTTP request makes one EVALSHA per request. Sent
 * one by one, each costs a write here, a read and a reply write in Redis, and a
 * separate pub/sub message read on every edge, which then frames and flushes that one
 * event to every socket on its own. Calls made during one turn of the event loop (the
 * requests whose bodies arrived together) are instead written as one pipeline: Redis
 * runs them back to back, and the edges receive their publications in one read and
 * flush them to each socket in one write.
 *
 * One pipeline is in flight at a time (group commit): calls made while it is out wait
 * for its replies and then leave together. A lone call on a quiet ingest leaves at the
 * next turn as before; under load the batches grow with the load instead of depending
 * on how requests happen to line up in time, at the cost of at most one Redis round
 * trip of waiting. Without it, concurrent requests drift apart and each goes alone,
 * and every process on the path (Redis, each edge, each client) pays per event what a
 * batch would have shared. bench: fanout at 1k subscribers, one event per request.
 *
 * The calls stay separate commands: each has its own reply and its own error, and a
 * failure of one fails only its caller. Callers are concurrent and unordered (each
 * waits for its own reply), so nothing orders one call before another; a caller whose
 * calls must keep their order (a batch split over several calls) uses
 * `runScriptCalls` instead. NOSCRIPT (the node restarted or its scripts were flushed)
 * means that call did not run: it is sent again alone with the script's body.
 */
import { isNoScript, queueScript, runScript, type LuaScript, type RedisClient, type ScriptArg } from '@herald/redis';

interface PendingCall {
  readonly keys: readonly string[];
  readonly args: readonly ScriptArg[];
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: Error) => void;
}

export class ScriptBatcher {
  private pending: PendingCall[] = [];
  private scheduled = false;
  /** A pipeline (or lone call) is out and has not replied yet. */
  private inFlight = false;
  private readonly flushPending = (): void => this.flush();
  private readonly landed = (): void => {
    this.inFlight = false;
    if (this.pending.length > 0 && !this.scheduled) this.flush();
  };

  constructor(
    private readonly client: RedisClient,
    private readonly script: LuaScript,
  ) {}

  /** Runs the script once with these keys and arguments; replies with strings. */
  run(keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push({ keys, args, resolve, reject });
      // While a call is out, `landed` sends what gathered meanwhile.
      if (!this.scheduled && !this.inFlight) {
        this.scheduled = true;
        // setImmediate, not a microtask: requests read in the same poll phase join in.
        setImmediate(this.flushPending);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight) return;
    const calls = this.pending;
    this.pending = [];
    if (calls.length === 0) return;
    this.inFlight = true;
    if (calls.length === 1) {
      const call = calls[0]!;
      const sent = runScript(this.client, this.script, call.keys, call.args);
      sent.then(this.landed, this.landed);
      sent.then(call.resolve, (error: unknown) => call.reject(asError(error)));
      return;
    }
    const pipeline = this.client.pipeline();
    const withBody = this.script.needsBody(this.client);
    calls.forEach((call, i) => queueScript(pipeline, this.script, call.keys, call.args, withBody && i === 0));
    const sent = pipeline.exec();
    sent.then(this.landed, this.landed);
    sent.then(
      (replies) => {
        calls.forEach((call, i) => {
          const reply = replies?.[i];
          if (reply === undefined) call.reject(new Error(`Redis sent no reply to ${this.script.name}`));
          else if (reply[0] === null) call.resolve(reply[1]);
          else this.retryOrFail(call, reply[0]);
        });
      },
      (error: unknown) => {
        for (const call of calls) call.reject(asError(error));
      },
    );
  }

  private retryOrFail(call: PendingCall, error: unknown): void {
    if (!isNoScript(error)) {
      call.reject(asError(error));
      return;
    }
    this.client.call('eval', this.script.source, call.keys.length, ...call.keys, ...call.args).then(call.resolve, (retryError: unknown) => call.reject(asError(retryError)));
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
