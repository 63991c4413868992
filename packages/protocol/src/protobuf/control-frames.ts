/**
 * Control frames as WebSocketMessage, the binary twins of the JSON encoders in
 * frames.ts: same arguments, same meaning. Each takes its timestamp from the clock
 * when it is encoded, as the JSON ones do.
 *
 * Proto3 strings have no absence, so an absent `replyTo`, `channel` or `reason` is
 * the empty string on the wire; no JSON frame ever carries an empty one (command ids
 * are non-empty, channel names too).
 */
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import type { ConnectedFrame, SubscribedFrame } from '../frames.js';
import type { ProblemDefinition } from '../problems.js';
import { WebSocketMessageSchema } from '../gen/websocket/v1/websocket_pb.js';
import { timestampFromIso, timestampFromMillis } from './timestamps.js';

type MessageInit = MessageInitShape<typeof WebSocketMessageSchema>;

function encode(init: MessageInit): Uint8Array {
  return toBinary(WebSocketMessageSchema, create(WebSocketMessageSchema, { ...init, timestamp: timestampFromMillis(Date.now()) }));
}

/** `expiresAt` of the JSON frames (ISO 8601) as a Timestamp, or nothing. */
function expiry(expiresAt: string | undefined): ReturnType<typeof timestampFromIso> | undefined {
  return expiresAt === undefined ? undefined : timestampFromIso(expiresAt);
}

/** Durations are whole milliseconds in uint32 fields: refuse what would wrap. */
function millis(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`${name} must be a whole number of milliseconds in uint32 (got ${value})`);
  return value;
}

export function encodeConnectedMessage(id: string, data: ConnectedFrame['data']): Uint8Array {
  return encode({
    type: 'connected',
    id,
    payload: {
      case: 'connected',
      value: {
        connectionId: data.connectionId,
        node: data.node,
        pingIntervalMs: millis('pingInterval', data.pingInterval),
        readTimeoutMs: millis('readTimeout', data.readTimeout),
        expiresAt: expiry(data.expiresAt),
      },
    },
  });
}

export function encodeSubscribedMessage(replyTo: string | undefined, data: SubscribedFrame['data']): Uint8Array {
  return encode({
    type: 'subscribed',
    replyTo: replyTo ?? '',
    payload: { case: 'subscribed', value: { channel: data.channel, recovered: data.recovered, missed: data.missed } },
  });
}

/** `reason`: absent when the client asked; `forbidden` when a refresh took the grant away. */
export function encodeUnsubscribedMessage(replyTo: string | undefined, channel: string, reason?: string): Uint8Array {
  return encode({ type: 'unsubscribed', replyTo: replyTo ?? '', payload: { case: 'unsubscribed', value: { channel, reason: reason ?? '' } } });
}

export function encodePongMessage(replyTo: string | undefined): Uint8Array {
  // The empty Pong is still set: the payload says what the frame is, as `type` does.
  return encode({ type: 'pong', replyTo: replyTo ?? '', payload: { case: 'pong', value: {} } });
}

/** `channel`: the channel the error is about, where there is one (continuity-lost). */
export function encodeErrorMessage(problem: ProblemDefinition, message: string, replyTo?: string, channel?: string): Uint8Array {
  return encode({
    type: 'error',
    replyTo: replyTo ?? '',
    channel: channel ?? '',
    payload: { case: 'error', value: { type: problem.type, message } },
  });
}

/** `expiresAt`: the new token's `exp` (ISO 8601), absent when it has none. */
export function encodeRefreshedMessage(replyTo: string | undefined, expiresAt?: string): Uint8Array {
  return encode({ type: 'refreshed', replyTo: replyTo ?? '', payload: { case: 'refreshed', value: { expiresAt: expiry(expiresAt) } } });
}
