/**
 * `@herald/client/protobuf` for Node: the same API as `@herald/client`, and its
 * `HeraldClient` also speaks `format: 'protobuf'` (subprotocol `v1.protobuf`). A
 * separate entry so that JSON users never load the protobuf runtime.
 */
import { HeraldClientCore } from './client.js';
import { protobufCodec } from './codec-protobuf.js';
import type { EventMap, HeraldEventMap } from './events.js';
import { defaultTransport } from './transport-default.js';
import type { ClientOptions } from './options.js';

export * from './index.js';

export class HeraldClient<M extends EventMap = HeraldEventMap> extends HeraldClientCore<M> {
  constructor(options: ClientOptions) {
    super(options, defaultTransport(options), [protobufCodec]);
  }
}
