/**
 * @herald/client for browsers: the platform `WebSocket` only, never `ws`. The token
 * travels as `?access_token=` (browsers cannot set headers on a WebSocket handshake).
 */
import { HeraldClientCore } from './client.js';
import type { EventMap, HeraldEventMap } from './events.js';
import type { ClientOptions } from './options.js';
import { globalWebSocket, nativeTransport, type TransportFactory } from './transport.js';

export * from './exports.js';

function defaultTransport(options: ClientOptions): TransportFactory {
  if (options.transport) return options.transport;
  const WebSocketImpl = options.WebSocket ?? globalWebSocket();
  if (!WebSocketImpl) throw new TypeError('No WebSocket in this environment: pass options.WebSocket');
  return nativeTransport(WebSocketImpl);
}

export class HeraldClient<M extends EventMap = HeraldEventMap> extends HeraldClientCore<M> {
  constructor(options: ClientOptions) {
    super(options, defaultTransport(options));
  }
}
