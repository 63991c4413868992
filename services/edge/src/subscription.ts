/**
 * One connection's subscription to one channel. Until it is live, the hub buffers
 * the channel's frames in it; going live flushes those newer than `lastSent`.
 */
export class Subscription {
  /** Receiving frames straight from the hub. */
  live = false;
  /** Its own recovery is done; waiting for the channel's gap fill to end. */
  activated = false;
  /** The newest seq sent to the client on this channel before going live. */
  lastSent: string | undefined = undefined;
  /** Frames that arrived while not live: seq, frame, seq, frame... */
  buffer: Array<string | Buffer> | null = [];

  constructor(readonly channel: string) {}
}
