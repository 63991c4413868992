/**
 * Interop: the server driven by WebSocket clients we did not write — Debian's
 * python3-websockets under /usr/bin/python3, and Node's undici WebSocket — with the
 * v1.json subprotocol: connect, subscribe, receive a published event, ping/pong at
 * both levels (protocol pings answered by the client; the `ping` command).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { WebSocket as UndiciWebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';

const PYTHON = '/usr/bin/python3';
const PING_MS = 200;
const READ_TIMEOUT_MS = 700;

let herald: HeraldProcess;

beforeAll(async () => {
  herald = await startHerald({ env: { WEBSOCKET_PING_INTERVAL: `${PING_MS}ms`, WEBSOCKET_READ_TIMEOUT: `${READ_TIMEOUT_MS}ms` } });
});

afterAll(async () => {
  await herald?.stop();
});

function hasPythonWebsockets(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Makes python3-websockets available if it can (root and apt); otherwise says why not. */
function pythonWebsocketsUnavailable(): string | undefined {
  try {
    execFileSync(PYTHON, ['--version'], { stdio: 'ignore' });
  } catch {
    return `${PYTHON} is not installed`;
  }
  if (hasPythonWebsockets()) return undefined;
  if (process.getuid?.() !== 0) return 'python3-websockets is not installed and the tests do not run as root to install it';
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-websockets'], {
      stdio: 'ignore',
      timeout: 120_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    return `apt-get install python3-websockets failed: ${(error as Error).message}`;
  }
  return hasPythonWebsockets() ? undefined : 'python3-websockets installed but not importable';
}

// A small client written against the python-websockets API (10.x and later): it
// prints one JSON line per step and reads the go-ahead for the next step on stdin.
const PYTHON_CLIENT = String.raw`
import asyncio, json, sys, websockets

def out(**kw):
    print(json.dumps(kw), flush=True)

async def main(url, token, channel, ping_ms, read_timeout_ms):
    headers = {"Authorization": "Bearer " + token}
    try:
        ws = await websockets.connect(url, subprotocols=["v1.json"], additional_headers=headers, ping_interval=None)
    except TypeError:
        ws = await websockets.connect(url, subprotocols=["v1.json"], extra_headers=headers, ping_interval=None)
    try:
        out(step="connected", protocol=ws.subprotocol, frame=json.loads(await ws.recv()))
        await ws.send(json.dumps({"type": "subscribe", "id": "py-1", "data": {"channel": channel}}))
        out(step="subscribed", frame=json.loads(await ws.recv()))
        out(step="event", frame=json.loads(await ws.recv()))
        await ws.send(json.dumps({"type": "ping", "id": "py-2"}))
        out(step="pong", frame=json.loads(await ws.recv()))
        # A protocol ping from this side: the server must answer it.
        pong_waiter = await ws.ping(b"interop")
        await asyncio.wait_for(pong_waiter, timeout=5)
        out(step="protocol-pong")
        # Stay quiet for twice the read timeout: the library answers the server's pings.
        await asyncio.sleep(2 * read_timeout_ms / 1000)
        await ws.send(json.dumps({"type": "ping", "id": "py-3"}))
        out(step="alive", frame=json.loads(await ws.recv()))
    finally:
        await ws.close()
    out(step="closed", code=ws.close_code)

asyncio.run(main(*sys.argv[1:4], int(sys.argv[4]), int(sys.argv[5])))
`;

describe('interop', () => {
  it('python3-websockets (Debian) connects with v1.json, subscribes, receives an event and pings', async (context) => {
    const unavailable = pythonWebsocketsUnavailable();
    if (unavailable !== undefined) {
      console.warn(`skipping the python3-websockets interop test: ${unavailable}`);
      context.skip();
    }
    const merchant = `m_py_${process.pid}`;
    const channel = `merchant:${merchant}`;
    const token = clientToken({ sub: 'python', channels: [channel] });
    const child = spawn(PYTHON, ['-c', PYTHON_CLIENT, herald.wsUrl, token, channel, String(PING_MS), String(READ_TIMEOUT_MS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = once(child, 'exit');
    const steps: Record<string, any> = {};
    const lines = createInterface({ input: child.stdout });
    const event = paymentCreated(merchant);
    try {
      for await (const line of lines) {
        const step = JSON.parse(line) as { step: string; [key: string]: unknown };
        steps[step.step] = step;
        if (step.step === 'subscribed') expect((await publish(herald.url, event)).status).toBe(202);
        if (step.step === 'closed') break;
      }
      const [code] = await exited;
      expect(code, stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(steps.connected.protocol).toBe('v1.json');
    expect(steps.connected.frame).toMatchObject({ type: 'connected', data: { pingInterval: PING_MS, readTimeout: READ_TIMEOUT_MS } });
    expect(steps.subscribed.frame).toMatchObject({ type: 'subscribed', replyTo: 'py-1', data: { channel, recovered: false, missed: 0 } });
    expect(steps.event.frame).toMatchObject({ type: 'payment.created', id: event.id, channel, data: event.data });
    expect(steps.pong.frame).toMatchObject({ type: 'pong', replyTo: 'py-2' });
    expect(steps['protocol-pong']).toBeDefined();
    expect(steps.alive.frame).toMatchObject({ type: 'pong', replyTo: 'py-3' });
    expect(steps.closed.code).toBe(1000);
  });

  it('undici WebSocket connects with v1.json, subscribes, receives an event, pings, and answers protocol pings', async () => {
    const merchant = `m_undici_${process.pid}`;
    const channel = `merchant:${merchant}`;
    // The browser way: the token in the query, since a browser cannot set headers.
    const token = clientToken({ sub: 'undici', channels: [channel] });
    const ws = new UndiciWebSocket(`${herald.wsUrl}?access_token=${encodeURIComponent(token)}`, ['v1.json']);
    const frames: any[] = [];
    const waiters: Array<{ predicate: (frame: any) => boolean; resolve: (frame: any) => void }> = [];
    ws.addEventListener('message', (message) => {
      const frame = JSON.parse(String(message.data));
      frames.push(frame);
      for (const waiter of waiters.splice(0)) {
        if (waiter.predicate(frame)) waiter.resolve(frame);
        else waiters.push(waiter);
      }
    });
    const next = (predicate: (frame: any) => boolean) =>
      new Promise<any>((resolve, reject) => {
        const seen = frames.find(predicate);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no matching frame; got ${JSON.stringify(frames)}`)), 5_000);
        waiters.push({ predicate, resolve: (frame) => (clearTimeout(timer), resolve(frame)) });
      });
    const closed = new Promise<{ code: number }>((resolve) => ws.addEventListener('close', (close) => resolve({ code: close.code })));

    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('undici WebSocket failed to open')));
    });
    expect(ws.protocol).toBe('v1.json');
    const connected = await next((frame) => frame.type === 'connected');
    expect(connected.data).toMatchObject({ pingInterval: PING_MS, readTimeout: READ_TIMEOUT_MS });

    ws.send(JSON.stringify({ type: 'subscribe', id: 'u-1', data: { channel } }));
    expect(await next((frame) => frame.replyTo === 'u-1')).toMatchObject({ type: 'subscribed', data: { channel, recovered: false, missed: 0 } });
    const event = paymentCreated(merchant);
    expect((await publish(herald.url, event)).status).toBe(202);
    expect(await next((frame) => frame.type === 'payment.created')).toMatchObject({ id: event.id, channel, data: event.data });

    ws.send(JSON.stringify({ type: 'ping', id: 'u-2' }));
    expect(await next((frame) => frame.replyTo === 'u-2')).toMatchObject({ type: 'pong' });

    // undici answers the server's protocol pings by itself: after more than twice the
    // read timeout without sending anything, the connection is still open. (The only
    // signal is the clock: the server would have cut a silent client by now.)
    await new Promise((resolve) => setTimeout(resolve, 2 * READ_TIMEOUT_MS + PING_MS));
    expect(ws.readyState).toBe(UndiciWebSocket.OPEN);
    ws.send(JSON.stringify({ type: 'ping', id: 'u-3' }));
    expect(await next((frame) => frame.replyTo === 'u-3')).toMatchObject({ type: 'pong' });

    ws.close(1000);
    expect((await closed).code).toBe(1000);
  });
});
