/**
 * `@herald/client/protobuf` for browsers (the `browser` export condition): the browser
 * entry's API, and its `HeraldClient` also speaks `format: 'protobuf'` (binary frames
 * on the platform WebSocket). Only applications that import it bundle the protobuf
 * runtime.
 */
import { defaultTransport } from './transport-default-browser.js';
import { HeraldClientCore } from './client.js';
import { protobufCodec } from './codec-protobuf.js';
import type { EventMap, HeraldEventMap } from './events.js';
import type { ClientOptions } from './options.js';

export * from './browser.js';

export class HeraldClient<M extends EventMap = HeraldEventMap> extends HeraldClientCore<M> {
  constructor(options: ClientOptions) {
    super(options, defaultTransport(options), [protobufCodec]);
  }
}
