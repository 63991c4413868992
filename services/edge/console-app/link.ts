/**
 * The console's WebSocket to the edge it was served by: `/v1/ws` with the token in the
 * query (a browser cannot set handshake headers), JSON frames, and a reconnect with
 * jittered backoff. Deliberately tiny: the console needs subscribe and frames, not the
 * SDK's recovery (a missed stats second is simply not drawn).
 */

export type Frame = Record<string, unknown>;

export interface LinkHandlers {
  onOpen(): void;
  onFrame(frame: Frame): void;
  /** `opened`: whether this socket ever opened (a refused handshake never does). */
  onClose(code: number, reason: string, opened: boolean): void;
}

const MAX_BACKOFF_MS = 10_000;

export class Link {
  private socket: WebSocket | undefined;
  private stopped = false;
  private attempt = 0;
  private commands = 0;

  constructor(
    private readonly url: string,
    private readonly handlers: LinkHandlers,
  ) {}

  open(): void {
    const socket = new WebSocket(this.url, 'v1.json');
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.handlers.onOpen();
    };
    socket.onmessage = (message: MessageEvent) => {
      if (typeof message.data !== 'string') return;
      try {
        const frame: unknown = JSON.parse(message.data);
        if (typeof frame === 'object' && frame !== null) this.handlers.onFrame(frame as Frame);
      } catch {
        // Not JSON: nothing the console can show.
      }
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.handlers.onClose(event.code, event.reason, opened);
      if (this.stopped) return;
      // Full jitter: twenty consoles behind one load balancer do not come back together.
      const delay = Math.random() * Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
      this.attempt += 1;
      setTimeout(() => {
        if (!this.stopped) this.open();
      }, delay);
    };
  }

  /** Sends a command; its id (what `replyTo` will say) is `label` plus a counter. */
  send(type: string, data: Record<string, unknown>, label: string): string {
    this.commands += 1;
    const id = `${label}-${this.commands}`;
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type, id, data }));
    return id;
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close(1000, 'signed out');
  }
}
