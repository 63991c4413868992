/**
 * One connection's subscription to one channel. Until it is live, the hub buffers
 * the channel's publications in it; going live sends those newer than `lastSent`.
 */
import type { EventFrames } from './event-frames.js';

export class Subscription {
  /** Its own recovery is sent; it goes live once the channel's gap fill ends or the live feed reaches `lastSent`. */
  recoverySent = false;
  /** The newest seq sent to the client on this channel before going live. */
  lastSent: string | undefined = undefined;
  /** Publications that arrived while not live, in order (their frames are shared with the live sessions). */
  buffer: EventFrames[] | null = [];

  constructor(readonly channel: string) {}
}
