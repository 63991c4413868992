/**
 * Events as WebSocketMessage: the JSON envelope `{type, id, timestamp, channel, seq,
 * data}` to bytes and back. The edge encodes each event once per node (not once per
 * subscriber), so this runs once per event on the server's hot path.
 *
 * `payment.created` / `payment.updated` fill their typed messages (payment-fields.ts
 * says which property goes where); every other type carries `data` as a
 * google.protobuf.Struct. decode(encode(e)) deep-equals e for every valid event: a
 * JSON object of exact doubles, strings, booleans, null, arrays and objects, and a
 * timestamp as the JSON protocol writes it (ISO 8601 UTC with milliseconds).
 *
 * Two things JSON text can hold and protobuf cannot, neither of which Herald's ingest
 * produces in practice: key order (a Struct is a map; decoded `data` lists typed
 * payment fields first) and unpaired UTF-16 surrogates in strings (protobuf strings are
 * UTF-8, so `"\ud800"` arrives as U+FFFD).
 */
import type { Envelope } from '../frames.js';
import type { WebSocketMessage } from '../gen/websocket/v1/websocket_pb.js';
import { writeEventMessage } from './event-writer.js';
import { isJsonObject, type JsonObject } from './json.js';
import { dataFromPaymentCreated, dataFromPaymentUpdated } from './payment-fields.js';
import { isoFromTimestamp } from './timestamps.js';

/** An event as the JSON protocol delivers it, with `data` parsed. */
export type EventEnvelope = Envelope<JsonObject>;

/**
 * The bytes of one event frame. Throws (TypeError / RangeError) only for input the
 * ingest never lets through: `data` that is not an object, a timestamp that does not
 * parse.
 */
export function encodeEventMessage(event: EventEnvelope): Uint8Array {
  const { type, id, timestamp, channel, seq, data } = event;
  if (!isJsonObject(data)) throw new TypeError(`Event "${id}": data must be a JSON object`);
  const timestampMs = Date.parse(timestamp);
  if (Number.isNaN(timestampMs)) throw new RangeError(`Event "${id}": timestamp is not an ISO 8601 date-time`);
  return writeEventMessage({ type, id, timestampMs, channel, seq, data });
}

/**
 * The JSON envelope of a decoded event message, or undefined when the message is not an
 * event (its payload is a control frame or missing). Throws RangeError or TypeError when
 * the message is not one Herald could have sent.
 */
export function eventFromMessage(message: WebSocketMessage): EventEnvelope | undefined {
  const { payload } = message;
  let data: JsonObject;
  switch (payload.case) {
    case 'paymentCreated':
      requireType(message, 'payment.created');
      data = dataFromPaymentCreated(payload.value);
      break;
    case 'paymentUpdated':
      requireType(message, 'payment.updated');
      data = dataFromPaymentUpdated(payload.value);
      break;
    case 'data':
      data = payload.value;
      break;
    default:
      return undefined;
  }
  if (message.timestamp === undefined) throw new TypeError(`Event "${message.id}" has no timestamp`);
  return {
    type: message.type,
    id: message.id,
    timestamp: isoFromTimestamp(message.timestamp),
    channel: message.channel,
    seq: message.seq,
    data,
  };
}

function requireType(message: WebSocketMessage, type: string): void {
  if (message.type !== type) throw new TypeError(`A ${type} payload in a message of type "${message.type}"`);
}
