import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, type DecodeResult } from '../commands.js';
import { ClientCommandSchema } from '../gen/websocket/v1/websocket_pb.js';
import { Problem } from '../problems.js';
import { decodeClientCommand, encodeClientCommand, type ClientCommandInput } from './client-commands.js';

type CommandInit = Parameters<typeof create<typeof ClientCommandSchema>>[1];

function bytesOf(init: CommandInit): Uint8Array {
  return toBinary(ClientCommandSchema, create(ClientCommandSchema, init));
}

function expectInvalid(result: DecodeResult, mention: RegExp | string): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.problem).toBe(Problem.invalidMessage);
  expect(result.message).toMatch(mention);
}

/** A varint as bytes. */
function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

describe('ClientCommand', () => {
  it.each<ClientCommandInput>([
    { type: 'subscribe', id: 'c1', data: { channel: 'merchant:m_42', since: '1763719200123-0' } },
    { type: 'subscribe', data: { channel: 'merchant:m_42' } },
    { type: 'unsubscribe', id: 'c2', data: { channel: 'payment:pay_456' } },
    { type: 'ping', id: 'p1' },
    { type: 'ping' },
  ])('decodes what it encodes: %o', (command) => {
    const decoded = decodeClientCommand(encodeClientCommand(command));
    expect(decoded).toEqual({ ok: true, command });
    // The same result as the JSON frame of the same command.
    expect(decoded).toEqual(decodeCommand(JSON.stringify(command)));
  });

  it('answers like the JSON decoder for random commands, valid or not', () => {
    const channel = fc.oneof(fc.constantFrom('merchant:m_42', 'a', 'bad channel', 'a'.repeat(201), 'x:'), fc.string({ maxLength: 8 }));
    const since = fc.option(fc.oneof(fc.constantFrom('1-0', '1763719200123-7', 'x', '1-'), fc.string({ maxLength: 6 })), { nil: undefined });
    const id = fc.option(fc.oneof(fc.string({ minLength: 1, maxLength: 70 }), fc.constant('x'.repeat(64))), { nil: undefined });
    const command = fc.oneof(
      fc.record({ type: fc.constant('subscribe' as const), id, data: fc.record({ channel, since }) }),
      fc.record({ type: fc.constant('unsubscribe' as const), id, data: fc.record({ channel }) }),
      fc.record({ type: fc.constant('ping' as const), id }),
    );
    fc.assert(
      fc.property(command, (input) => {
        // JSON leaves out undefined keys; an empty `since` is "no since" in both.
        const json = JSON.parse(JSON.stringify(input)) as ClientCommandInput;
        if (json.type === 'subscribe' && json.data.since === '') delete json.data.since;
        expect(decodeClientCommand(encodeClientCommand(input))).toEqual(decodeCommand(JSON.stringify(json)));
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps the id as replyTo and answers the JSON problems', () => {
    expect(decodeClientCommand(encodeClientCommand({ type: 'subscribe', id: 'c9', data: { channel: 'bad channel' } }))).toMatchObject({
      ok: false,
      problem: Problem.invalidChannel,
      replyTo: 'c9',
    });
    expect(decodeClientCommand(bytesOf({ type: 'publish', id: 'c2' }))).toMatchObject({ ok: false, problem: Problem.unknownType, replyTo: 'c2' });
    expectInvalid(decodeClientCommand(encodeClientCommand({ type: 'subscribe', data: { channel: 'a', since: 'x' } })), /since/);
    expectInvalid(decodeClientCommand(bytesOf({ type: 'ping', id: 'x'.repeat(65) })), /"id"/);
  });

  it('treats refresh exactly as the JSON decoder does', () => {
    const refresh = { type: 'refresh', id: 'r1', data: { token: 'jwt' } } as const;
    expect(decodeClientCommand(encodeClientCommand(refresh))).toEqual(decodeCommand(JSON.stringify(refresh)));
  });

  describe('bad input answers invalid-message and never throws', () => {
    const subscribe = encodeClientCommand({ type: 'subscribe', id: 'c1', data: { channel: 'merchant:m_42', since: '1-0' } });

    it('refuses params that do not belong to the type', () => {
      expectInvalid(decodeClientCommand(bytesOf({ type: 'subscribe', id: 'c1', params: { case: 'refresh', value: { token: 't' } } })), /"subscribe" command needs "subscribe" params \(got "refresh"\)/);
      expectInvalid(decodeClientCommand(bytesOf({ type: 'unsubscribe', params: { case: 'subscribe', value: { channel: 'a' } } })), /needs "unsubscribe"/);
      expectInvalid(decodeClientCommand(bytesOf({ type: 'subscribe' })), /got none/);
      expectInvalid(decodeClientCommand(bytesOf({ type: 'ping', params: { case: 'unsubscribe', value: { channel: 'a' } } })), /takes no params/);
      expectInvalid(decodeClientCommand(bytesOf({ id: 'c1' })), /"type" is required/);
      expect(decodeClientCommand(bytesOf({ type: 'subscribe', id: 'c1', params: { case: 'refresh', value: {} } }))).toMatchObject({ replyTo: 'c1' });
    });

    it('refuses unknown fields, at the top and inside params', () => {
      expectInvalid(decodeClientCommand(new Uint8Array([...subscribe, 0x30, 0x01])), /ClientCommand has no field 6/);
      // Subscribe { channel = "a", field 9 = varint 1 }
      const params = [0x0a, 0x01, 0x61, 0x48, 0x01];
      expectInvalid(decodeClientCommand(new Uint8Array([0x0a, 0x09, ...Buffer.from('subscribe'), 0x1a, params.length, ...params])), /Subscribe has no field 9/);
    });

    it('refuses a huge length prefix without allocating it', () => {
      // type = <10 MB of text> in a 100-byte frame
      const frame = new Uint8Array(100);
      frame.set([0x0a, ...varint(10 * 1024 * 1024)]);
      expectInvalid(decodeClientCommand(frame), /ClientCommand.type claims 10485760 bytes where \d+ are left/);
      // The same inside params: the nested length must fit its parent, not only the frame.
      const nested = new Uint8Array([0x1a, 0x04, 0x0a, 0x7f, 0x61, 0x61, 0x61, 0x61, 0x61]);
      expectInvalid(decodeClientCommand(nested), /Subscribe.channel claims 127 bytes where 2 are left/);
    });

    it('refuses every truncation of a valid frame that is not itself a valid frame', () => {
      for (let length = 0; length < subscribe.length; length++) {
        const result = decodeClientCommand(subscribe.subarray(0, length));
        if (!result.ok) expect([Problem.invalidMessage, Problem.invalidChannel]).toContain(result.problem);
      }
      expectInvalid(decodeClientCommand(subscribe.subarray(0, subscribe.length - 1)), /claims|cut off/);
    });

    it('refuses wrong wire types, groups, bad tags and over-long varints', () => {
      expectInvalid(decodeClientCommand(new Uint8Array([0x08, 0x01])), /ClientCommand.type \(field 1\) has wire type varint, expected length-delimited/);
      expectInvalid(decodeClientCommand(new Uint8Array([0x1b, 0x1c])), /field 3\) has wire type group start/);
      expectInvalid(decodeClientCommand(new Uint8Array([0x00, 0x00])), /Invalid field tag/);
      expectInvalid(decodeClientCommand(new Uint8Array([0x0f])), /wire type invalid \(7\)/);
      expectInvalid(decodeClientCommand(new Uint8Array([0x0a, ...Array(11).fill(0x80), 0x01])), /longer than 10 bytes/);
      expectInvalid(decodeClientCommand(new Uint8Array([0x0a, 0x80])), /cut off/);
    });

    it('refuses deeply nested groups without recursing into them', () => {
      // 100 000 start-group tags of an unknown field: a lenient decoder would recurse.
      expectInvalid(decodeClientCommand(new Uint8Array(100_000).fill(0x33)), /no field 6/);
    });

    it('refuses strings that are not UTF-8', () => {
      expectInvalid(decodeClientCommand(new Uint8Array([0x0a, 0x02, 0xc3, 0x28])), /ClientCommand.type is not valid UTF-8/);
    });

    it('answers every random byte string without throwing', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          const result = decodeClientCommand(bytes);
          if (!result.ok) {
            expect([Problem.invalidMessage, Problem.invalidChannel, Problem.unknownType]).toContain(result.problem);
            expect(result.message.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 5_000 },
      );
    });

    it('answers random mutations of valid frames without throwing', () => {
      fc.assert(
        fc.property(fc.nat(subscribe.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
          const mutated = Uint8Array.from(subscribe);
          mutated[at] = byte;
          expect(() => decodeClientCommand(mutated)).not.toThrow();
        }),
        { numRuns: 2_000 },
      );
    });
  });
});
