/**
 * @herald/client for browsers: the platform `WebSocket` only, never `ws`. The token
 * travels as `?access_token=` (browsers cannot set headers on a WebSocket handshake).
 */
import { HeraldClientCore } from './client.js';
import type { EventMap, HeraldEventMap } from './events.js';
import type { ClientOptions } from './options.js';
import { defaultTransport } from './transport-default-browser.js';

export * from './exports.js';

export class HeraldClient<M extends EventMap = HeraldEventMap> extends HeraldClientCore<M> {
  constructor(options: ClientOptions) {
    super(options, defaultTransport(options));
  }
}
