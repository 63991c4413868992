/**
 * The outbox coalesces frames per socket: every frame bound for a session within one
 * event-loop iteration is written with a single socket.write at its end (one syscall
 * per socket instead of one per frame). It also enforces MAX_BUFFERED_BYTES.
 */
import type { Session } from './session.js';

export class Outbox {
  private dirty: Session[] = [];
  private spare: Session[] = [];
  private scheduled = false;
  /** The last concatenated chunk of this flush and the frames it was made of. */
  private lastParts: Buffer[] | null = null;
  private lastChunk: Buffer | null = null;
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
        // setImmediate, not queueMicrotask: the flush waits for every I/O callback of
        // this loop iteration (several broker messages or requests read at once), so
        // their frames share one write per socket. bench: fanout, batch=1.
        setImmediate(this.flushAll);
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
    socket.write(Array.isArray(pending) ? this.chunkOf(pending) : pending);
    if (socket.writableLength > this.maxBufferedBytes) this.onOverflow(session);
  }

  /**
   * The subscribers of a channel queue the same frames in the same order, and they sit
   * next to each other in `dirty`: the chunk is concatenated once and the same bytes
   * are written to each of them (one copy per tick instead of one per socket).
   * bench: fanout, batch=10.
   */
  private chunkOf(parts: Buffer[]): Buffer {
    const last = this.lastParts;
    if (last !== null && last.length === parts.length) {
      let same = true;
      for (let i = 0; i < parts.length; i++) {
        if (parts[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastChunk!;
    }
    const chunk = Buffer.concat(parts);
    this.lastParts = parts;
    this.lastChunk = chunk;
    return chunk;
  }

  private flush(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < dirty.length; i++) this.flushSession(dirty[i]!);
    dirty.length = 0;
    this.spare = dirty;
    this.lastParts = null;
    this.lastChunk = null;
  }
}
