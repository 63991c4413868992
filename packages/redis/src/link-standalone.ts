/**
 * Pub/sub on one Redis: SUBSCRIBE/UNSUBSCRIBE on a dedicated subscriber connection,
 * messages from `messageBuffer` (no string decoding by ioredis).
 */
import type { Redis } from 'ioredis';
import { MAX_CHANNELS_PER_COMMAND, chunk, type Handlers, type LinkEvents, type PubSubLink } from './link.js';

export class StandaloneLink implements PubSubLink {
  private handlers: Handlers = [];

  constructor(readonly client: Redis) {}

  isUp(): boolean {
    return this.client.status === 'ready';
  }

  group(channels: readonly string[]): string[][] {
    return chunk(channels, MAX_CHANNELS_PER_COMMAND);
  }

  subscribe(channels: readonly string[]): Promise<unknown> {
    return this.client.subscribe(...channels);
  }

  unsubscribe(channels: readonly string[]): Promise<unknown> {
    return this.client.unsubscribe(...channels);
  }

  attach(events: LinkEvents): void {
    this.detach();
    this.handlers = [
      ['messageBuffer', events.onMessage],
      ['close', () => events.onDown('subscriber connection closed')],
      ['end', () => events.onDown('subscriber connection ended')],
      ['ready', () => events.onUp()],
    ];
    for (const [event, handler] of this.handlers) this.client.on(event, handler);
  }

  detach(): void {
    for (const [event, handler] of this.handlers) this.client.off(event, handler);
    this.handlers = [];
  }
}
