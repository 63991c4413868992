import { create, toBinary } from '@bufbuild/protobuf';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeConnected, encodeError, encodePong, encodeSubscribed, encodeUnsubscribed } from '../frames.js';
import { WebSocketMessageSchema } from '../gen/websocket/v1/websocket_pb.js';
import { Problem } from '../problems.js';
import {
  encodeConnectedMessage,
  encodeErrorMessage,
  encodePongMessage,
  encodeRefreshedMessage,
  encodeSubscribedMessage,
  encodeUnsubscribedMessage,
} from './control-frames.js';
import { decodeServerMessage, ProtobufDecodeError } from './server-frames.js';
import { isoFromTimestamp, millisFromTimestamp, timestampFromIso, timestampFromMillis } from './timestamps.js';

const NOW = '2026-11-21T10:00:00.123Z';

/** The JSON text the protobuf frame must decode to, key for key. */
function twin(bytes: Uint8Array): string {
  return JSON.stringify(decodeServerMessage(bytes));
}

describe('control frames over protobuf', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date(NOW) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const connected = { connectionId: 'conn_1', node: 'edge-a', pingInterval: 30_000, readTimeout: 60_000 };

  // Thunks: the frames must be encoded under the fake clock, not when the table is built.
  it.each<[string, () => Uint8Array, () => string]>([
    ['connected', () => encodeConnectedMessage('srv_1', connected), () => encodeConnected('srv_1', connected)],
    [
      'subscribed',
      () => encodeSubscribedMessage('c1', { channel: 'merchant:m_42', recovered: true, missed: 3 }),
      () => encodeSubscribed('c1', { channel: 'merchant:m_42', recovered: true, missed: 3 }),
    ],
    [
      'subscribed without id',
      () => encodeSubscribedMessage(undefined, { channel: 'a', recovered: false, missed: 0 }),
      () => encodeSubscribed(undefined, { channel: 'a', recovered: false, missed: 0 }),
    ],
    ['unsubscribed', () => encodeUnsubscribedMessage('c2', 'merchant:m_42'), () => encodeUnsubscribed('c2', 'merchant:m_42')],
    ['pong', () => encodePongMessage('p1'), () => encodePong('p1')],
    ['pong without id', () => encodePongMessage(undefined), () => encodePong(undefined)],
    [
      'error replying',
      () => encodeErrorMessage(Problem.forbidden, 'Not allowed to subscribe to merchant:m_9', 'c7'),
      () => encodeError(Problem.forbidden, 'Not allowed to subscribe to merchant:m_9', 'c7'),
    ],
    [
      'error about a channel',
      () => encodeErrorMessage(Problem.continuityLost, 'History no longer covers since', undefined, 'merchant:m_42'),
      () => encodeError(Problem.continuityLost, 'History no longer covers since', undefined, 'merchant:m_42'),
    ],
    [
      'admission refused',
      () => encodeErrorMessage(Problem.reachMaximumConnections, 'Maximum number of connections reached'),
      () => encodeError(Problem.reachMaximumConnections, 'Maximum number of connections reached'),
    ],
  ])('%s decodes to the JSON frame, byte for byte', (_name, binary, json) => {
    expect(twin(binary())).toBe(json());
  });

  it('carries the fields the JSON encoders do not have yet (token lifecycle)', () => {
    expect(decodeServerMessage(encodeConnectedMessage('srv_1', { ...connected, expiresAt: '2026-11-21T11:00:00.000Z' }))).toEqual({
      type: 'connected',
      id: 'srv_1',
      timestamp: NOW,
      data: { ...connected, expiresAt: '2026-11-21T11:00:00.000Z' },
    });
    expect(decodeServerMessage(encodeUnsubscribedMessage(undefined, 'merchant:m_42', 'forbidden'))).toEqual({
      type: 'unsubscribed',
      timestamp: NOW,
      data: { channel: 'merchant:m_42', reason: 'forbidden' },
    });
    expect(twin(encodeRefreshedMessage('r1', '2026-11-21T12:00:00.500Z'))).toBe(
      '{"type":"refreshed","replyTo":"r1","timestamp":"2026-11-21T10:00:00.123Z","data":{"expiresAt":"2026-11-21T12:00:00.500Z"}}',
    );
    expect(decodeServerMessage(encodeRefreshedMessage('r2'))).toEqual({ type: 'refreshed', replyTo: 'r2', timestamp: NOW, data: {} });
  });

  it('refuses durations that do not fit uint32 milliseconds', () => {
    expect(() => encodeConnectedMessage('s', { ...connected, pingInterval: 2 ** 32 })).toThrow(RangeError);
    expect(() => encodeConnectedMessage('s', { ...connected, readTimeout: 1.5 })).toThrow(RangeError);
  });
});

describe('decodeServerMessage on unexpected input', () => {
  const timestamp = timestampFromIso(NOW);
  const bytesOf = (init: Parameters<typeof create<typeof WebSocketMessageSchema>>[1]): Uint8Array =>
    toBinary(WebSocketMessageSchema, create(WebSocketMessageSchema, init));

  it('throws ProtobufDecodeError for bytes that are not a message', () => {
    expect(() => decodeServerMessage(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x7f, 1, 2]))).toThrow(ProtobufDecodeError);
    expect(() => decodeServerMessage(new Uint8Array([0xff]))).toThrow(ProtobufDecodeError);
  });

  it('throws for a payload that does not match the type, or a missing one', () => {
    expect(() => decodeServerMessage(bytesOf({ type: 'error', timestamp, payload: { case: 'pong', value: {} } }))).toThrow(/pong payload/);
    expect(() => decodeServerMessage(bytesOf({ type: 'subscribed', timestamp }))).toThrow(/without its payload/);
    expect(() => decodeServerMessage(bytesOf({ type: 'connected', timestamp, payload: { case: 'data', value: {} } }))).toThrow(/event payload/);
    expect(() => decodeServerMessage(bytesOf({ type: 'pong', payload: { case: 'pong', value: {} } }))).toThrow(/without a timestamp/);
    expect(() => decodeServerMessage(bytesOf({ type: 'refund.created', timestamp, channel: 'a', seq: '1-0' }))).toThrow(/no data/);
  });

  it('accepts a pong without its empty payload, and an ArrayBuffer', () => {
    const bytes = bytesOf({ type: 'pong', timestamp, replyTo: 'p' });
    const buffer = new Uint8Array(bytes).buffer;
    expect(decodeServerMessage(buffer)).toEqual({ type: 'pong', replyTo: 'p', timestamp: NOW });
  });

  it('ignores what a newer server adds: unknown fields, unknown frame kinds', () => {
    const known = bytesOf({ type: 'pong', timestamp, payload: { case: 'pong', value: {} } });
    const unknownField = new Uint8Array([...known, 0x80, 0x01, 0x05]); // field 16, varint 5
    expect(decodeServerMessage(unknownField)).toEqual({ type: 'pong', timestamp: NOW });
    const unknownKind = new Uint8Array([...bytesOf({ type: 'presence', timestamp }), 0x82, 0x01, 0x00]); // field 16, empty message
    expect(decodeServerMessage(unknownKind)).toBeUndefined();
  });

  it('reads data nested to the limit and no deeper', () => {
    let data: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) data = { d: data };
    const bytes = bytesOf({ type: 'x.y', timestamp, channel: 'a', seq: '1-0', payload: { case: 'data', value: data as never } });
    expect(decodeServerMessage(bytes)).toMatchObject({ data });
    expect(() => decodeServerMessage(bytes, { maxDataDepth: 20 })).toThrow(/recursion depth/);
  });
});

describe('timestamps', () => {
  it('keep milliseconds both ways, before 1970 too', () => {
    for (const iso of ['2026-11-21T10:00:00.123Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      const timestamp = timestampFromIso(iso);
      expect(timestamp.nanos).toBeGreaterThanOrEqual(0);
      expect(isoFromTimestamp(timestamp)).toBe(iso);
    }
    expect(timestampFromMillis(-1)).toMatchObject({ seconds: -1n, nanos: 999_000_000 });
  });

  it('drop what is below a millisecond, as Date does', () => {
    expect(isoFromTimestamp({ ...timestampFromMillis(1_000), nanos: 999_999_999 })).toBe('1970-01-01T00:00:01.999Z');
    expect(() => millisFromTimestamp({ ...timestampFromMillis(0), nanos: -1 })).toThrow(RangeError);
  });
});
