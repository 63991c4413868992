/**
 * Frame shapes of the v1 wire protocol (PROTOCOL.md section 3) and encoders for the
 * control frames. Event envelopes are encoded elsewhere, once per event (see
 * `envelope.ts`); these control frames are rare and use plain JSON.stringify.
 */
import type { ProblemDefinition } from './problems.js';

/** The JSON subprotocol, the default when a client offers none. */
export const SUBPROTOCOL = 'v1.json';
/**
 * The binary subprotocol (PROTOCOL.md section 9); its codec is the separate entry
 * `@herald/protocol/protobuf`, so JSON-only users never load the protobuf runtime.
 */
export const PROTOBUF_SUBPROTOCOL = 'v1.protobuf';
/** The WebSocket path; the version lives in the URL only. */
export const WEBSOCKET_PATH = '/v1/ws';
/** Longest accepted command `id`. */
export const MAX_COMMAND_ID_LENGTH = 64;

/** An event as delivered to clients. */
export interface Envelope<TData = unknown> {
  type: string;
  id: string;
  timestamp: string;
  channel: string;
  seq: string;
  data: TData;
}

export interface ConnectedFrame {
  type: 'connected';
  id: string;
  timestamp: string;
  /** `expiresAt` (ISO 8601): the token's `exp`, when it has one (PROTOCOL.md section 11). */
  data: { connectionId: string; node: string; pingInterval: number; readTimeout: number; expiresAt?: string };
}

export interface SubscribedFrame {
  type: 'subscribed';
  replyTo?: string;
  timestamp: string;
  data: { channel: string; recovered: boolean; missed: number };
}

export interface UnsubscribedFrame {
  type: 'unsubscribed';
  replyTo?: string;
  timestamp: string;
  /** `reason` is absent when the client asked; `forbidden` when a refresh took the grant away. */
  data: { channel: string; reason?: string };
}

/** The reply to `refresh` (PROTOCOL.md section 11); no `expiresAt` when the new token has no `exp`. */
export interface RefreshedFrame {
  type: 'refreshed';
  replyTo?: string;
  timestamp: string;
  data: { expiresAt?: string };
}

export interface PongFrame {
  type: 'pong';
  replyTo?: string;
  timestamp: string;
}

export interface ErrorFrame {
  type: 'error';
  replyTo?: string;
  /** The channel the error is about, where there is one (continuity-lost, forbidden...). */
  channel?: string;
  error: { type: string; message: string };
  timestamp: string;
}

export type ServerFrame = ConnectedFrame | SubscribedFrame | UnsubscribedFrame | RefreshedFrame | PongFrame | ErrorFrame | Envelope;

/** Commands a client sends. */
export interface SubscribeCommand {
  type: 'subscribe';
  id?: string;
  data: { channel: string; since?: string };
}
export interface UnsubscribeCommand {
  type: 'unsubscribe';
  id?: string;
  data: { channel: string };
}
export interface PingCommand {
  type: 'ping';
  id?: string;
}
/** `refresh` (PROTOCOL.md section 11): a new token for the same connection. */
export interface RefreshCommand {
  type: 'refresh';
  id?: string;
  data: { token: string };
}
export type Command = SubscribeCommand | UnsubscribeCommand | PingCommand | RefreshCommand;
export type CommandType = Command['type'];

/** ISO 8601 UTC with milliseconds. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function encodeConnected(id: string, data: ConnectedFrame['data']): string {
  return JSON.stringify({ type: 'connected', id, timestamp: nowIso(), data });
}

export function encodeSubscribed(replyTo: string | undefined, data: SubscribedFrame['data']): string {
  return JSON.stringify({ type: 'subscribed', replyTo, timestamp: nowIso(), data });
}

/** `reason`: absent when the client asked; `forbidden` when a refresh took the grant away. */
export function encodeUnsubscribed(replyTo: string | undefined, channel: string, reason?: string): string {
  return JSON.stringify({ type: 'unsubscribed', replyTo, timestamp: nowIso(), data: reason === undefined ? { channel } : { channel, reason } });
}

/** `expiresAt`: the new token's `exp` (ISO 8601), absent when it has none. */
export function encodeRefreshed(replyTo: string | undefined, expiresAt?: string): string {
  return JSON.stringify({ type: 'refreshed', replyTo, timestamp: nowIso(), data: expiresAt === undefined ? {} : { expiresAt } });
}

export function encodePong(replyTo: string | undefined): string {
  return JSON.stringify({ type: 'pong', replyTo, timestamp: nowIso() });
}

/**
 * An error frame. Key order is `type`, `replyTo`, `channel`, `error`, `timestamp`;
 * absent optional keys are left out (JSON.stringify drops undefined).
 */
export function encodeError(
  problem: ProblemDefinition,
  message: string,
  replyTo?: string,
  channel?: string,
): string {
  return JSON.stringify({ type: 'error', replyTo, channel, error: { type: problem.type, message }, timestamp: nowIso() });
}
