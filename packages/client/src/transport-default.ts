/**
 * The Node entries' default transport: `ws` (see index.ts for why), unless the options
 * name a transport or a WebSocket constructor.
 */
import type { ClientOptions } from './options.js';
import { nativeTransport, type TransportFactory } from './transport.js';
import { wsTransport } from './transport-ws.js';

export function defaultTransport(options: ClientOptions): TransportFactory {
  if (options.transport) return options.transport;
  return options.WebSocket ? nativeTransport(options.WebSocket) : wsTransport();
}
