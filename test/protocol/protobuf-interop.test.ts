/**
 * Interop over `v1.protobuf` with a client that shares no code with Herald: Python
 * (/usr/bin/python3) with Debian's python3-protobuf and python3-websockets, its message
 * classes generated here from the project's websocket.proto by Debian's protoc. It
 * connects with the subprotocol v1.protobuf, subscribes, decodes every field of every
 * frame it gets (typed payment fields, `extra`, the Struct `data` of other types,
 * timestamps, reply_to), and rebuilds each event's `data` by the rule of PROTOCOL.md
 * section 9. A JSON subscriber of the same channel must see the same events: same ids,
 * seqs, timestamps and data.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type HeraldProcess } from '../support/herald.js';
import { paymentCreated, publish } from '../support/ingest.js';
import { clientToken } from '../support/tokens.js';
import { TestClient } from '../support/ws-client.js';

const PYTHON = '/usr/bin/python3';
const PROTOC = 'protoc';
/** Where Debian's libprotobuf-dev puts google/protobuf/struct.proto and timestamp.proto. */
const WELL_KNOWN_INCLUDE = '/usr/include';
const PROTO_DIR = fileURLToPath(new URL('../../packages/protocol/proto/websocket/v1', import.meta.url));

let herald: HeraldProcess;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'herald-pb-interop-'));
  // A registered type that is not a payment message: the protobuf client gets it as a Struct.
  const schemas = join(work, 'schemas');
  execFileSync('mkdir', ['-p', schemas]);
  writeFileSync(join(schemas, 'payment.refunded.json'), JSON.stringify({ type: 'object', required: ['payment_id', 'merchant_id'] }));
  herald = await startHerald({ env: { EVENT_SCHEMAS_DIR: schemas } });
});

afterAll(async () => {
  await herald?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function works(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What is missing of python3, python3-websockets, python3-protobuf, protoc and the well-known .proto files. */
function missingTools(): string[] {
  const missing: string[] = [];
  if (!works(PYTHON, ['-c', 'import websockets'])) missing.push('python3-websockets');
  if (!works(PYTHON, ['-c', 'import google.protobuf'])) missing.push('python3-protobuf');
  if (!works(PROTOC, ['--version'])) missing.push('protobuf-compiler');
  if (!works('test', ['-f', `${WELL_KNOWN_INCLUDE}/google/protobuf/struct.proto`])) missing.push('libprotobuf-dev');
  return missing;
}

/** Installs what is missing when it can (root and apt); otherwise says why the test cannot run. */
function toolsUnavailable(): string | undefined {
  if (!works(PYTHON, ['--version'])) return `${PYTHON} is not installed`;
  const missing = missingTools();
  if (missing.length === 0) return undefined;
  if (process.getuid?.() !== 0) return `${missing.join(', ')} not installed and the tests do not run as root to install them`;
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
      stdio: 'ignore',
      timeout: 180_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (error) {
    return `apt-get install ${missing.join(' ')} failed: ${(error as Error).message}`;
  }
  const still = missingTools();
  return still.length === 0 ? undefined : `${still.join(', ')} still missing after apt-get install`;
}

// The client: only the generated module, google.protobuf and websockets. One JSON line
// per step on stdout; the test publishes when it reads "subscribed".
const PYTHON_CLIENT = String.raw`
import asyncio, datetime, json, sys, websockets
sys.path.insert(0, sys.argv[1])
import websocket_pb2 as pb

def out(**kw):
    print(json.dumps(kw), flush=True)

def iso(ts):
    ms = ts.seconds * 1000 + ts.nanos // 1000000
    t = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.timezone.utc)
    return t.strftime('%Y-%m-%dT%H:%M:%S') + '.%03dZ' % (ms % 1000)

def value(v):
    kind = v.WhichOneof('kind')
    if kind == 'null_value': return None
    if kind == 'number_value': return v.number_value
    if kind == 'string_value': return v.string_value
    if kind == 'bool_value': return v.bool_value
    if kind == 'struct_value': return struct(v.struct_value)
    if kind == 'list_value': return [value(x) for x in v.list_value.values]
    raise ValueError('empty Value')

def struct(s):
    return {k: value(v) for k, v in s.fields.items()}

CREATED = ['payment_id', 'order_id', 'amount', 'status', 'merchant_id', 'currency']
UPDATED = ['payment_id', 'order_id', 'status', 'merchant_id', 'currency']

def payment(p, names, optional_amount):
    # Typed fields carry a property only when set (proto3: not the default); extra has the rest.
    data = {}
    for name in names:
        v = getattr(p, name)
        if v != type(v)():
            data[name] = v
    if optional_amount and p.HasField('amount'):
        data['amount'] = p.amount
    data.update(struct(p.extra))
    return data

def frame(raw):
    if not isinstance(raw, bytes):
        raise TypeError('expected a binary frame, got text')
    m = pb.WebSocketMessage()
    m.ParseFromString(raw)
    f = {'type': m.type, 'timestamp': iso(m.timestamp), 'payload': m.WhichOneof('payload'), 'bytes': len(raw)}
    for name in ['id', 'channel', 'seq', 'reply_to']:
        if getattr(m, name) != '':
            f[name] = getattr(m, name)
    p = f['payload']
    if p == 'payment_created': f['data'] = payment(m.payment_created, CREATED, False)
    elif p == 'payment_updated': f['data'] = payment(m.payment_updated, UPDATED, True)
    elif p == 'data': f['data'] = struct(m.data)
    elif p == 'connected':
        c = m.connected
        f['connected'] = {'connection_id': c.connection_id, 'node': c.node, 'ping_interval_ms': c.ping_interval_ms, 'read_timeout_ms': c.read_timeout_ms, 'has_expires_at': c.HasField('expires_at')}
    elif p == 'subscribed':
        f['subscribed'] = {'channel': m.subscribed.channel, 'recovered': m.subscribed.recovered, 'missed': m.subscribed.missed}
    elif p == 'unsubscribed':
        f['unsubscribed'] = {'channel': m.unsubscribed.channel, 'reason': m.unsubscribed.reason}
    elif p == 'error':
        f['error'] = {'type': m.error.type, 'message': m.error.message}
    return f

def command(type, id, **params):
    c = pb.ClientCommand(type=type, id=id)
    if type == 'subscribe': c.subscribe.CopyFrom(pb.Subscribe(**params))
    if type == 'unsubscribe': c.unsubscribe.CopyFrom(pb.Unsubscribe(**params))
    return c.SerializeToString()

async def recv(ws):
    # A frame that never comes fails the run instead of hanging it.
    return await asyncio.wait_for(ws.recv(), 10)

async def main(gen_dir, url, token, channel, events):
    headers = {'Authorization': 'Bearer ' + token}
    try:
        ws = await websockets.connect(url, subprotocols=['v1.protobuf'], additional_headers=headers, ping_interval=None)
    except TypeError:
        ws = await websockets.connect(url, subprotocols=['v1.protobuf'], extra_headers=headers, ping_interval=None)
    try:
        out(step='connected', protocol=ws.subprotocol, frame=frame(await recv(ws)))
        await ws.send(command('subscribe', 'py-1', channel=channel))
        out(step='subscribed', frame=frame(await recv(ws)))
        for i in range(int(events)):
            out(step='event', frame=frame(await recv(ws)))
        await ws.send(command('ping', 'py-2'))
        out(step='pong', frame=frame(await recv(ws)))
        await ws.send(command('subscribe', 'py-3', channel='merchant:not_mine'))
        out(step='forbidden', frame=frame(await recv(ws)))
        await ws.send(command('unsubscribe', 'py-4', channel=channel))
        out(step='unsubscribed', frame=frame(await recv(ws)))
    finally:
        await ws.close()
    out(step='closed', code=ws.close_code)

asyncio.run(main(*sys.argv[1:6]))
`;

describe('interop over v1.protobuf', () => {
  it('a Python client with protoc-generated classes decodes every field, side by side with a JSON subscriber: same ids, seqs and data', async (context) => {
    const unavailable = toolsUnavailable();
    if (unavailable !== undefined) {
      console.warn(`skipping the python3-protobuf interop test: ${unavailable}`);
      context.skip();
    }
    const generated = join(work, 'gen');
    execFileSync('mkdir', ['-p', generated]);
    execFileSync(PROTOC, [`-I${PROTO_DIR}`, `-I${WELL_KNOWN_INCLUDE}`, `--python_out=${generated}`, 'websocket.proto'], { cwd: PROTO_DIR });

    const merchant = `m_pyproto_${process.pid}`;
    const channel = `merchant:${merchant}`;
    const json = await TestClient.open(herald.wsUrl, { token: clientToken({ channels: [channel] }), protocols: 'v1.json' });
    await json.subscribe(channel);

    const events: Array<Record<string, any>> = [
      paymentCreated(merchant),
      // A typed field that cannot hold the value (amount 0 in PaymentCreated) and extra properties go to `extra`.
      paymentCreated(merchant, {
        data: { payment_id: 'pay_py', order_id: 'order_py', merchant_id: merchant, amount: 0, currency: 'EUR', status: 'pending', metadata: { tags: ['a', 2.5, null, true], nested: { n: -3 } } },
      }),
      { type: 'payment.updated', id: `evt_upd_${process.pid}`, data: { payment_id: 'pay_py', merchant_id: merchant, status: 'captured', amount: 0 } },
      { type: 'payment.updated', id: `evt_upd2_${process.pid}`, data: { payment_id: 'pay_py', merchant_id: merchant, status: 'refunded' } },
      { type: 'payment.refunded', id: `evt_ref_${process.pid}`, data: { payment_id: 'pay_py', merchant_id: merchant, refund: { amount: 100, lines: [{ sku: 'a', qty: 1 }], final: false, note: null } } },
    ];

    const token = clientToken({ sub: 'python-protobuf', channels: [channel] });
    const child = spawn(PYTHON, ['-c', PYTHON_CLIENT, generated, herald.wsUrl, token, channel, String(events.length)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = once(child, 'exit');
    const steps: Record<string, any> = {};
    const received: any[] = [];
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        const step = JSON.parse(line) as { step: string; frame?: unknown };
        if (step.step === 'event') received.push(step.frame);
        else steps[step.step] = step;
        if (step.step === 'subscribed') {
          for (const event of events) {
            const answer = await publish(herald.url, event);
            expect(answer.status, JSON.stringify(answer.body)).toBe(202);
          }
        }
        if (step.step === 'closed') break;
      }
      const [code] = await exited;
      expect(code, stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }

    expect(steps.connected.protocol).toBe('v1.protobuf');
    expect(steps.connected.frame).toMatchObject({ type: 'connected', payload: 'connected', connected: { node: expect.any(String), ping_interval_ms: 30_000, read_timeout_ms: 60_000, has_expires_at: true } }); // the token has exp (PROTOCOL.md section 11)
    expect(steps.connected.frame.id).toEqual(expect.any(String));
    expect(steps.subscribed.frame).toMatchObject({ type: 'subscribed', reply_to: 'py-1', subscribed: { channel, recovered: false, missed: 0 } });
    expect(steps.pong.frame).toMatchObject({ type: 'pong', payload: 'pong', reply_to: 'py-2' });
    expect(steps.forbidden.frame).toMatchObject({ type: 'error', reply_to: 'py-3', error: { type: '/problems/forbidden' } });
    expect(steps.unsubscribed.frame).toMatchObject({ type: 'unsubscribed', reply_to: 'py-4', unsubscribed: { channel, reason: '' } });
    expect(steps.closed.code).toBe(1000);

    const jsonEvents = await json.waitForEvents(events.length, channel);
    expect(received.map((frame) => frame.payload)).toEqual(['payment_created', 'payment_created', 'payment_updated', 'payment_updated', 'data']);
    expect(received.map((frame) => frame.id)).toEqual(events.map((event) => event.id));
    // Field by field against the JSON subscriber's envelope of the same event.
    expect(received.map(({ type, id, timestamp, channel: c, seq, data }) => ({ type, id, timestamp, channel: c, seq, data }))).toEqual(jsonEvents);
    for (const [i, event] of events.entries()) expect(received[i].data, event.type as string).toEqual(event.data);
    // Payment events are far smaller in protobuf than in JSON.
    const jsonSize = Buffer.byteLength(JSON.stringify(jsonEvents[0]));
    expect(received[0].bytes).toBeLessThan(jsonSize * 0.7);
    await json.close();
  });
});
