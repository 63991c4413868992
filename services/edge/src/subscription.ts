/**
 * One connection's subscription to one channel. Until it is live, the hub buffers
 * the channel's frames in it; going live flushes those newer than `lastSent`.
 */
export class Subscription {
  /** Its own recovery is sent; it goes live once the channel's gap fill ends or the live feed reaches `lastSent`. */
  activated = false;
  /** The newest seq sent to the client on this channel before going live. */
  lastSent: string | undefined = undefined;
  /** Frames that arrived while not live: seq, frame, seq, frame... */
  buffer: Array<string | Buffer> | null = [];

  constructor(readonly channel: string) {}
}
