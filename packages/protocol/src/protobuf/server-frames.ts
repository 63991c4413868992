/**
 * WebSocketMessage bytes to the JSON twin frame: the object the JSON protocol would
 * have sent for the same thing (frames.ts), so a client handles both formats with one
 * router. Replies carry `replyTo`, errors about a channel carry `channel`, key order
 * follows the JSON encoders.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import type { ServerFrame } from '../frames.js';
import { WebSocketMessageSchema, type WebSocketMessage } from '../gen/websocket/v1/websocket_pb.js';
import { eventFromMessage } from './events.js';
import { isoFromTimestamp } from './timestamps.js';

/** The server sent bytes that are not a WebSocketMessage Herald could have sent. */
export class ProtobufDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtobufDecodeError';
  }
}

export interface ServerMessageOptions {
  /**
   * Deepest nesting of `data` to read, in JSON levels (an object or array inside
   * `data` is one level more). Each JSON level is two protobuf messages (Struct and
   * Value), hence the runtime's recursion limit of twice this plus the envelope's.
   * Default 128, well above the ingest's INGEST_MAX_DEPTH (32).
   */
  readonly maxDataDepth?: number;
}

const DEFAULT_MAX_DATA_DEPTH = 128;
/** WebSocketMessage, PaymentCreated (or the Struct itself), `extra`. */
const ENVELOPE_LEVELS = 4;

/** Frame types that are not events; their payload must match `type`. */
const CONTROL_TYPES: ReadonlySet<string> = new Set(['connected', 'subscribed', 'unsubscribed', 'pong', 'error', 'refreshed']);

/**
 * Decodes one binary frame from the server. Returns undefined for a frame of a kind
 * this version does not know (a newer server's payload): ignore it, as the JSON client
 * ignores unknown frame types. Throws ProtobufDecodeError for malformed bytes.
 * Unknown fields are skipped: the server may add fields (the .proto never renumbers).
 */
export function decodeServerMessage(bytes: Uint8Array | ArrayBuffer, options: ServerMessageOptions = {}): ServerFrame | undefined {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const recursionLimit = 2 * (options.maxDataDepth ?? DEFAULT_MAX_DATA_DEPTH) + ENVELOPE_LEVELS;
  let message: WebSocketMessage;
  try {
    message = fromBinary(WebSocketMessageSchema, view, { readUnknownFields: false, recursionLimit });
  } catch (error) {
    throw new ProtobufDecodeError(`Not a WebSocketMessage: ${messageOf(error)}`, { cause: error });
  }
  try {
    return frameOf(message);
  } catch (error) {
    if (error instanceof ProtobufDecodeError) throw error;
    throw new ProtobufDecodeError(`Bad ${JSON.stringify(message.type)} message: ${messageOf(error)}`, { cause: error });
  }
}

function frameOf(message: WebSocketMessage): ServerFrame | undefined {
  const { type, payload } = message;
  if (payload.case === undefined) {
    // Pong has no fields; another encoder may leave the empty message out.
    if (type === 'pong') return { type: 'pong', ...replyToOf(message), timestamp: timestampOf(message) };
    if (CONTROL_TYPES.has(type)) throw new ProtobufDecodeError(`A "${type}" message without its payload`);
    if (message.seq !== '') throw new ProtobufDecodeError(`Event "${message.id}" of type "${type}" has no data`);
    return undefined;
  }
  const event = eventFromMessage(message);
  if (event !== undefined) {
    if (CONTROL_TYPES.has(type)) throw new ProtobufDecodeError(`A "${type}" message with an event payload`);
    return event;
  }
  if (payload.case !== type) throw new ProtobufDecodeError(`A ${payload.case} payload in a message of type "${type}"`);
  // Key order as the JSON encoders write it: type, id or replyTo, channel, error, timestamp, data.
  const timestamp = timestampOf(message);
  switch (payload.case) {
    case 'connected': {
      const { connectionId, node, pingIntervalMs, readTimeoutMs, expiresAt } = payload.value;
      const data = { connectionId, node, pingInterval: pingIntervalMs, readTimeout: readTimeoutMs };
      return {
        type: 'connected',
        id: message.id,
        timestamp,
        data: expiresAt === undefined ? data : { ...data, expiresAt: isoFromTimestamp(expiresAt) },
      };
    }
    case 'subscribed': {
      const { channel, recovered, missed } = payload.value;
      return { type: 'subscribed', ...replyToOf(message), timestamp, data: { channel, recovered, missed } };
    }
    case 'unsubscribed': {
      const { channel, reason } = payload.value;
      return { type: 'unsubscribed', ...replyToOf(message), timestamp, data: reason === '' ? { channel } : { channel, reason } };
    }
    case 'pong':
      return { type: 'pong', ...replyToOf(message), timestamp };
    case 'error': {
      const { type: problem, message: text } = payload.value;
      const channel = message.channel === '' ? {} : { channel: message.channel };
      return { type: 'error', ...replyToOf(message), ...channel, error: { type: problem, message: text }, timestamp };
    }
    case 'refreshed': {
      const { expiresAt } = payload.value;
      return { type: 'refreshed', ...replyToOf(message), timestamp, data: expiresAt === undefined ? {} : { expiresAt: isoFromTimestamp(expiresAt) } };
    }
  }
}

/** `{replyTo}` when the message answers a command that had an id; JSON leaves the key out otherwise. */
function replyToOf(message: WebSocketMessage): { replyTo?: string } {
  return message.replyTo === '' ? {} : { replyTo: message.replyTo };
}

function timestampOf(message: { type: string; timestamp?: Timestamp | undefined }): string {
  if (message.timestamp === undefined) throw new ProtobufDecodeError(`A "${message.type}" message without a timestamp`);
  return isoFromTimestamp(message.timestamp);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
