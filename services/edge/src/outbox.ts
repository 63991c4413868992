/**
 * The outbox coalesces frames per socket: every frame bound for a session within one
 * tick is written with a single socket.write at the end of the tick (one syscall per
 * socket instead of one per frame). It also enforces MAX_BUFFERED_BYTES.
 */
import type { Session } from './session.js';

export class Outbox {
  private dirty: Session[] = [];
  private spare: Session[] = [];
  private scheduled = false;
  private readonly flushAll = (): void => this.flush();

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly onOverflow: (session: Session) => void,
  ) {}

  /** Queues a complete frame for the session; written at the end of this tick. */
  enqueue(session: Session, frame: Buffer): void {
    if (session.closing) return;
    const pending = session.pending;
    if (pending === null) {
      session.pending = frame;
      this.dirty.push(session);
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flushAll);
      }
    } else if (Array.isArray(pending)) {
      pending.push(frame);
    } else {
      session.pending = [pending, frame];
    }
  }

  /** Writes what the session has queued now (before a close frame, for instance). */
  flushSession(session: Session): void {
    const pending = session.pending;
    if (pending === null) return;
    session.pending = null;
    const socket = session.socket;
    if (session.closing || !socket.writable) return;
    // One chunk per socket per tick: concat costs a copy of a few hundred bytes,
    // far less than a write call (and its syscall) per frame.
    socket.write(Array.isArray(pending) ? Buffer.concat(pending) : pending);
    if (socket.writableLength > this.maxBufferedBytes) this.onOverflow(session);
  }

  private flush(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < dirty.length; i++) this.flushSession(dirty[i]!);
    dirty.length = 0;
    this.spare = dirty;
  }
}
