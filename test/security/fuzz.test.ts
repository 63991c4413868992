/**
 * Security, property-based: random and mutated input to the decoders an attacker reaches
 * first, as unit properties (no exception escapes; every refusal is a documented problem
 * type; what is accepted is well-formed), then random frames through a real edge socket
 * (only documented problems and close codes come back, and the node still serves).
 *
 * - the edge's command decoders: `decodeCommand` (what v1.json's WireFormat.decode
 *   calls) and `decodeClientCommand` (v1.protobuf's);
 * - the ingest's event path: parseJsonInput, validateEvent and the default routes,
 *   which must derive `merchant:{data.merchant_id}` exactly or refuse.
 */
import fc from 'fast-check';
import { DEFAULT_MAX_COMMAND_DEPTH, MAX_COMMAND_ID_LENGTH, decodeCommand, isValidChannel, parseJsonInput, type DecodeResult } from '@herald/protocol';
import { decodeClientCommand, encodeClientCommand, type ClientCommandInput } from '@herald/protocol/protobuf';
import { MessageTypeRegistry } from '@herald/protocol/registry';
import { DEFAULT_ROUTES, Router, validateEvent } from '@herald/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientToken } from '../support/tokens.js';
import { TestClient, type Frame } from '../support/ws-client.js';
import { unique } from '../ingest/helpers.js';
import { COMMAND_PROBLEMS, INPUT_CLOSE_CODES, startTarget, type Target } from './support.js';

/** What a command decoder may refuse with: a frame alone never earns anything else. */
const DECODE_PROBLEMS = new Set(['/problems/invalid-message', '/problems/invalid-channel', '/problems/unknown-type']);

function expectSoundDecode(result: DecodeResult): void {
  if (result.ok) {
    const command = result.command;
    expect(['ping', 'subscribe', 'unsubscribe', 'refresh']).toContain(command.type);
    if (command.id !== undefined) expect(command.id.length).toBeGreaterThan(0);
    if (command.id !== undefined) expect(command.id.length).toBeLessThanOrEqual(MAX_COMMAND_ID_LENGTH);
    if (command.type === 'subscribe' || command.type === 'unsubscribe') expect(isValidChannel(command.data.channel)).toBe(true);
    return;
  }
  expect(DECODE_PROBLEMS.has(result.problem.type), result.problem.type).toBe(true);
  expect(typeof result.message).toBe('string');
  if (result.replyTo !== undefined) expect(result.replyTo.length).toBeLessThanOrEqual(MAX_COMMAND_ID_LENGTH);
}

const channelish = fc.oneof(
  fc.constantFrom('merchant:m_1', 'merchant:m_1*', '*', '__proto__', 'merchant:..', 'merch\u0430nt:m_1', 'merchant:m_1\u0000', 'a'.repeat(201), ''),
  fc.stringMatching(/^[A-Za-z0-9_:.*-]{0,30}$/),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const idish = fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('__proto__', 'constructor', ''), fc.integer(), anyJson);
const typeish = fc.oneof(fc.constantFrom('ping', 'subscribe', 'unsubscribe', 'refresh', '__proto__', 'constructor', 'toString', ''), fc.string({ maxLength: 12 }), anyJson);

/** Command-shaped JSON text, with prototype keys and odd values, sometimes cut or spliced. */
const jsonCommandText = fc
  .record(
    {
      type: typeish,
      id: idish,
      data: fc.oneof(
        fc.record({ channel: fc.oneof(channelish, anyJson), since: fc.oneof(fc.constantFrom('0-0', '1-1', 'x'), anyJson) }, { requiredKeys: [] }),
        anyJson,
      ),
    },
    { requiredKeys: [] },
  )
  .chain((command) =>
    fc.tuple(fc.constant(JSON.stringify(command)), fc.constantFrom('none', 'proto', 'cut', 'splice'), fc.nat(), fc.string({ unit: 'binary', maxLength: 4 })),
  )
  .map(([text, mutation, at, insert]) => {
    const position = text.length === 0 ? 0 : at % text.length;
    switch (mutation) {
      case 'proto':
        return text.replace(/^\{/, '{"__proto__":{"type":"ping","data":{"channel":"merchant:m_1"}},');
      case 'cut':
        return text.slice(0, position);
      case 'splice':
        return text.slice(0, position) + insert + text.slice(position);
      default:
        return text;
    }
  });

const anyText = fc.oneof(
  { weight: 4, arbitrary: jsonCommandText },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: anyJson.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5_000 }).map((levels) => `{"type":"ping","x":${'['.repeat(levels)}${']'.repeat(levels)}}`) },
);

const clientCommand: fc.Arbitrary<ClientCommandInput> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), id: fc.string({ maxLength: 70 }) }),
  fc.record({ type: fc.constantFrom('subscribe' as const), id: fc.string({ maxLength: 70 }), data: fc.record({ channel: channelish, since: fc.constantFrom('0-0', 'x', '') }) }),
  fc.record({ type: fc.constant('unsubscribe' as const), id: fc.string({ maxLength: 70 }), data: fc.record({ channel: channelish }) }),
  fc.record({ type: fc.constant('refresh' as const), id: fc.string({ maxLength: 10 }), data: fc.record({ token: fc.string({ maxLength: 40 }) }) }),
);

/** ClientCommand bytes: random, or a real encoding with bytes flipped, cut or appended. */
const protobufBytes = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.tuple(clientCommand, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), fc.uint8Array({ maxLength: 8 })).map(
    ([command, flips, cut, tail]) => {
      const bytes = Buffer.from(encodeClientCommand(command));
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
      const kept = cut % 3 === 0 ? bytes.subarray(0, bytes.length === 0 ? 0 : cut % bytes.length) : bytes;
      return new Uint8Array(Buffer.concat([kept, Buffer.from(tail)]));
    },
  ),
);

describe('unit properties', () => {
  it('decodeCommand (v1.json): never throws, refuses only with invalid-message, invalid-channel or unknown-type', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expectSoundDecode(decodeCommand(text, DEFAULT_MAX_COMMAND_DEPTH));
      }),
      { numRuns: 3_000 },
    );
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });

  it('decodeClientCommand (v1.protobuf): never throws, refuses only with the same problems', () => {
    fc.assert(
      fc.property(protobufBytes, (bytes) => {
        expectSoundDecode(decodeClientCommand(bytes));
      }),
      { numRuns: 3_000 },
    );
  });

  it('the ingest event path (parse, validate, route): never throws; refusals are documented; accepted payment events go to merchant:{merchant_id} exactly', () => {
    const registry = MessageTypeRegistry.withBuiltins();
    const router = new Router(DEFAULT_ROUTES);
    let accepted = 0;
    const merchantish = fc.oneof(
      { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/) },
      fc.constantFrom('m_A,merchant:m_B', 'm_B*', 'm_A:x', '', 'x'.repeat(1024), '__proto__', 'constructor', '..', 'm\u0430'),
      fc.string({ unit: 'binary', maxLength: 12 }),
      anyJson,
    );
    const eventText = fc
      .record({
        type: fc.oneof({ weight: 6, arbitrary: fc.constant('payment.updated') }, fc.constantFrom('payment.created', 'payment.unknown', '__proto__'), fc.string({ maxLength: 10 })),
        merchant: merchantish,
        payment: fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_]{1,10}$/) }, anyJson),
        extra: fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'order_id', 'amount', 'currency'), fc.string({ maxLength: 6 })), anyJson, { maxKeys: 4 }),
        proto: fc.boolean(),
      })
      .map(({ type, merchant, payment, extra, proto }) => {
        const data = { payment_id: payment, merchant_id: merchant, status: 'captured', ...extra };
        const text = JSON.stringify({ type, data });
        return proto ? text.replace('"data":{', '"data":{"__proto__":{"merchant_id":"m_B","currency":"EUR"},') : text;
      });
    fc.assert(
      fc.property(eventText, (text) => {
        let parsed: ReturnType<typeof parseJsonInput>;
        try {
          parsed = parseJsonInput(text, { maxDepth: 32 });
        } catch {
          return; // 400 invalid-json: the text is not JSON
        }
        if (parsed.violations.length > 0) return; // refused naming each violation
        const result = validateEvent(parsed.value, registry);
        if (!result.ok) {
          expect(['/problems/validation-failed', '/problems/unknown-event-type']).toContain(result.problem.type);
          expect(result.errors.length).toBeGreaterThan(0);
          return;
        }
        const routed = router.route(result.event.type, result.event as unknown as Record<string, unknown>);
        if (!routed.ok) {
          expect(routed.errors.length).toBeGreaterThan(0);
          return;
        }
        for (const channel of routed.channels) expect(isValidChannel(channel), channel).toBe(true);
        const merchant = Object.prototype.hasOwnProperty.call(result.event.data, 'merchant_id') ? result.event.data.merchant_id : undefined;
        accepted += 1;
        if (result.event.type.startsWith('payment.')) {
          expect(typeof merchant).toBe('string');
          expect(routed.channels[0]).toBe(`merchant:${merchant as string}`);
          expect(routed.channels.filter((channel) => channel.startsWith('merchant:'))).toEqual([`merchant:${merchant as string}`]);
        }
      }),
      { numRuns: 3_000 },
    );
    // Not vacuous: well-formed events were among them.
    expect(accepted).toBeGreaterThan(300);
    // Nothing above reached Object.prototype.
    expect(({} as Record<string, unknown>).merchant_id).toBeUndefined();
    expect(({} as Record<string, unknown>).currency).toBeUndefined();
  });
});

describe('random frames through a real edge', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget({ label: 'sec-fuzz' });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('only documented problem types and close codes come back, and the node still serves', async () => {
    const connections: Partial<Record<'json' | 'protobuf', TestClient>> = {};
    const closeCodes: number[] = [];
    let reconnects = 0;
    let errors = 0;
    const connection = async (codec: 'json' | 'protobuf'): Promise<TestClient> => {
      const open = connections[codec];
      if (open && open.socket.readyState === open.socket.OPEN) return open;
      if (open) closeCodes.push((await open.closed).code);
      reconnects += 1;
      const client = await TestClient.open(target.edge.wsUrl, {
        token: clientToken({ sub: unique('fuzz'), channels: ['merchant:*', '__proto__'] }),
        codec,
        ...(codec === 'protobuf' ? { protocols: 'v1.protobuf' } : {}),
      });
      connections[codec] = client;
      return client;
    };
    const frame = fc.oneof(
      { weight: 5, arbitrary: anyText.map((text) => ({ binary: false, bytes: Buffer.from(text) })) },
      { weight: 4, arbitrary: protobufBytes.map((bytes) => ({ binary: true, bytes: Buffer.from(bytes) })) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bytes) => ({ binary: false, bytes: Buffer.from([0xff, ...bytes]) })) },
    );
    const allowed = (received: Frame): boolean => {
      if (['pong', 'subscribed', 'unsubscribed', 'connected'].includes(received.type)) return true;
      if (received.type === 'error') return COMMAND_PROBLEMS.has(received.error?.type);
      return typeof received.seq === 'string'; // an event of a channel it subscribed to
    };

    await fc.assert(
      fc.asyncProperty(fc.constantFrom<'json' | 'protobuf'>('json', 'protobuf'), fc.array(frame, { minLength: 1, maxLength: 4 }), async (codec, frames) => {
        const client = await connection(codec);
        const from = client.frames.length;
        for (const { binary, bytes } of frames) client.sendRaw(bytes, { binary });
        // A ping after them: its pong means every frame before it was handled.
        const sentinel = unique('sentinel');
        client.send({ type: 'ping', id: sentinel });
        await Promise.race([client.next((received) => received.type === 'pong' && received.replyTo === sentinel), client.closed]);
        for (const received of client.frames.slice(from)) expect(allowed(received), JSON.stringify(received)).toBe(true);
        errors += client.frames.slice(from).filter((received) => received.type === 'error').length;
      }),
      { numRuns: 120 },
    );
    for (const codec of ['json', 'protobuf'] as const) {
      const client = connections[codec];
      if (client && client.socket.readyState !== client.socket.OPEN) closeCodes.push((await client.closed).code);
      else await client?.close();
    }
    for (const code of closeCodes) expect(INPUT_CLOSE_CODES.has(code), `close ${code}`).toBe(true);
    expect(reconnects).toBeGreaterThan(2);
    expect(errors).toBeGreaterThan(20);
    await target.expectServes();
  }, 60_000);
});
