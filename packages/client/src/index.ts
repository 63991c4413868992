/**
 * @herald/client for Node (and any runtime without a "browser" export condition).
 * Uses `ws` (loaded with a dynamic import on the first connect), even where the runtime
 * has a global `WebSocket` (Node 22+): `ws` sends the token in the Authorization header,
 * not the URL, and reports a refused handshake's HTTP status (a 401 asks getToken() at
 * once). Pass `WebSocket` or `transport` to choose otherwise.
 */
import { HeraldClientCore } from './client.js';
import type { EventMap, HeraldEventMap } from './events.js';
import type { ClientOptions } from './options.js';
import { defaultTransport } from './transport-default.js';

export * from './exports.js';
export { wsTransport } from './transport-ws.js';
export type { WsTransportOptions } from './transport-ws.js';

export class HeraldClient<M extends EventMap = HeraldEventMap> extends HeraldClientCore<M> {
  constructor(options: ClientOptions) {
    super(options, defaultTransport(options));
  }
}
