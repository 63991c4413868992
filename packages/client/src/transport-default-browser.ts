/**
 * The browser entries' default transport: the platform `WebSocket` (never `ws`), unless
 * the options name a transport or a WebSocket constructor.
 */
import type { ClientOptions } from './options.js';
import { globalWebSocket, nativeTransport, type TransportFactory } from './transport.js';

export function defaultTransport(options: ClientOptions): TransportFactory {
  if (options.transport) return options.transport;
  const WebSocketImpl = options.WebSocket ?? globalWebSocket();
  if (!WebSocketImpl) throw new TypeError('No WebSocket in this environment: pass options.WebSocket');
  return nativeTransport(WebSocketImpl);
}
