/**
 * Public types of the client: states, event payloads, introspection.
 */
import type { HeraldError } from './errors.js';
import type { SubscriptionState, SubscriptionStats } from './subscription.js';

export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

export interface ConnectedInfo {
  /** The URL this connection went to (useful with a list of URLs or a provider). */
  url: string;
  connectionId: string;
  node: string;
  /** The ping interval in use (option, else the server's). */
  pingInterval: number;
  /** The silence after which the link is declared dead (option, else the server's). */
  readTimeout: number;
  /** False for the client's first connection, true after. */
  reconnected: boolean;
  /** When the token expires (ISO 8601), when it has `exp`; renewed by `refresh` with `getToken`. */
  expiresAt?: string;
}

export interface DisconnectInfo {
  code: number;
  reason: string;
  /** The HTTP status of a refused handshake, where the transport shows it. */
  httpStatus: number | undefined;
  willReconnect: boolean;
}

export interface ReconnectInfo {
  /** Consecutive failed attempts so far, counting this one (1 for the first retry). */
  attempt: number;
  /** The jittered delay before the next attempt, in ms. */
  delay: number;
  /** Why: the close code (1006 for network failures, read and connect timeouts). */
  code: number;
  reason: string;
}

export interface ClosedInfo {
  code: number;
  reason: string;
}

export interface ClientEvents {
  state: [state: ClientState, previous: ClientState];
  connected: [info: ConnectedInfo];
  disconnected: [info: DisconnectInfo];
  reconnecting: [info: ReconnectInfo];
  closed: [info: ClosedInfo];
  error: [error: HeraldError];
}

export interface ChannelStats extends SubscriptionStats {
  state: SubscriptionState;
  lastSeq: string | undefined;
}

export interface ClientStats {
  state: ClientState;
  connectionId: string | undefined;
  node: string | undefined;
  /** `connected` frames received. */
  connects: number;
  /** `connected` frames after the first: successful reconnections. */
  reconnects: number;
  /** Connection attempts started after a backoff delay. */
  reconnectAttempts: number;
  /** Established connections that ended without `close()`. */
  disconnects: number;
  /** Events for channels the client is not subscribed to (late after an unsubscribe). */
  unroutedEvents: number;
  /** Commands waiting for a reply, and waiting for the client-side rate limit. */
  pendingCommands: number;
  queuedCommands: number;
  subscriptions: Record<string, ChannelStats>;
}

export interface SubscribeOptions {
  /** Resume after this seq (for example one the application stored). */
  since?: string;
}
