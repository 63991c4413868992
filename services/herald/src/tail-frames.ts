/**
 * The SDK's Node transport with one addition: while the client handles a text frame,
 * the frame is at hand, so `herald tail --output json` prints each envelope exactly as
 * the edge sent it rather than re-encoded. The SDK delivers an event synchronously
 * while handling its frame, and one frame carries one event.
 */
import { wsTransport, type HeraldEvent, type TransportFactory } from '@herald/client';

export class FrameCapture {
  private current: string | undefined;
  readonly transport: TransportFactory;

  constructor(inner: TransportFactory = wsTransport()) {
    this.transport = (request, handlers) =>
      inner(request, {
        ...handlers,
        message: (data) => {
          this.current = typeof data === 'string' ? data : undefined;
          try {
            handlers.message(data);
          } finally {
            this.current = undefined;
          }
        },
      });
  }

  /** The frame `event` is being delivered from; undefined when that cannot be told. */
  frameOf(event: HeraldEvent): string | undefined {
    const raw = this.current;
    return raw !== undefined && raw.includes(`"seq":${JSON.stringify(event.seq)}`) ? raw : undefined;
  }
}
