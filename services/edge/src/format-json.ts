/**
 * `v1.json`: text frames of one JSON object each. An event's payload is the envelope
 * exactly as the broker carries it: the edge never parses or re-serialises it.
 */
import {
  SUBPROTOCOL,
  decodeCommand,
  encodeConnected,
  encodeError,
  encodePong,
  encodeRefreshed,
  encodeSubscribed,
  encodeUnsubscribed,
} from '@herald/protocol';
import { frameCompressedText } from './compression.js';
import { frameText } from './frame.js';
import type { WireFormat } from './wire-format.js';

export const JSON_FORMAT: WireFormat = {
  subprotocol: SUBPROTOCOL,
  name: 'json',
  binary: false,
  connected: (id, data) => frameText(encodeConnected(id, data)),
  subscribed: (replyTo, data) => frameText(encodeSubscribed(replyTo, data)),
  unsubscribed: (replyTo, channel, reason) => frameText(encodeUnsubscribed(replyTo, channel, reason)),
  refreshed: (replyTo, expiresAt) => frameText(encodeRefreshed(replyTo, expiresAt)),
  pong: (replyTo) => frameText(encodePong(replyTo)),
  error: (problem, message, replyTo, channel) => frameText(encodeError(problem, message, replyTo, channel)),
  decode: (data, maxJsonDepth) => decodeCommand(data.toString('utf8'), maxJsonDepth),
  eventPayload: (envelope) => envelope,
  frame: frameText,
  frameCompressed: frameCompressedText,
};
