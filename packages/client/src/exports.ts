/**
 * What both entries export besides `HeraldClient` itself.
 */
export type {
  ChannelStats,
  ClientEvents,
  ClientState,
  ClientStats,
  ClosedInfo,
  ConnectedInfo,
  DisconnectInfo,
  ReconnectInfo,
  SubscribeOptions,
} from './client-types.js';
export { HeraldClientCore } from './client.js';
export { Subscription } from './subscription.js';
export type {
  ContinuityLostInfo,
  ControlHandlers,
  EventName,
  SubscribedInfo,
  SubscriptionHandlers,
  SubscriptionState,
  SubscriptionStats,
} from './subscription.js';
export { HeraldError } from './errors.js';
export type { HeraldErrorKind } from './errors.js';
export type {
  EventMap,
  EventOf,
  HeraldEvent,
  HeraldEventMap,
  PaymentCreated,
  PaymentCreatedData,
  PaymentUpdated,
  PaymentUpdatedData,
  RequiredKeys,
} from './events.js';
export type { ClientOptions, UrlProvider, UrlRequest } from './options.js';
export type { ClientFormat } from './codec.js';
export type { BackoffOptions } from './backoff.js';
export { backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export type { Timers } from './clock.js';
export { Emitter } from './emitter.js';
export type { Listener } from './emitter.js';
export { nativeTransport } from './transport.js';
export type { ConnectRequest, Transport, TransportFactory, TransportHandlers, WebSocketConstructor, WebSocketLike } from './transport.js';
export { CloseCode, compareSeq } from '@herald/protocol';
