/**
 * @herald/client for Node (and any runtime without a "browser" export condition).
 * Uses the global `WebSocket` where the runtime has one, `ws` otherwise; `ws` is loaded
 * with a dynamic import on the first connect, so it costs nothing until then.
 */
import { HeraldClientCore } from './client.js';
import type { EventMap, HeraldEventMap } from './events.js';
import type { ClientOptions } from './options.js';
import { globalWebSocket, nativeTransport, type TransportFactory } from './transport.js';
import { wsTransport } from './transport-ws.js';

export * from './exports.js';
export { wsTransport } from './transport-ws.js';
export type { WsTransportOptions } from './transport-ws.js';

function defaultTransport(options: ClientOptions): TransportFactory {
  if (options.transport) return options.transport;
  const WebSocketImpl = options.WebSocket ?? globalWebSocket();
  return WebSocketImpl ? nativeTransport(WebSocketImpl) : wsTransport();
}

export class HeraldClient<M extends EventMap = HeraldEventMap> extends HeraldClientCore<M> {
  constructor(options: ClientOptions) {
    super(options, defaultTransport(options));
  }
}
