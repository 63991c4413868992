/** Awaiting client events instead of sleeping. */
import type { HeraldClientCore } from '../src/client.js';
import type { ClientEvents } from '../src/client-types.js';
import type { EventMap } from '../src/events.js';

/** Resolves with the arguments of the next `type` event. */
export function next<K extends keyof ClientEvents>(client: HeraldClientCore<EventMap>, type: K): Promise<ClientEvents[K]> {
  return new Promise((resolve) => {
    client.once(type, (...args) => resolve(args));
  });
}

/** Resolves with the first `type` event whose arguments satisfy `match`. */
export function nextMatching<K extends keyof ClientEvents>(
  client: HeraldClientCore<EventMap>,
  type: K,
  match: (...args: ClientEvents[K]) => boolean,
): Promise<ClientEvents[K]> {
  return new Promise((resolve) => {
    const off = client.on(type, (...args) => {
      if (!match(...args)) return;
      off();
      resolve(args);
    });
  });
}
