/**
 * The outbox coalesces frames per socket: every frame bound for a connection within one
 * event-loop iteration is written with a single socket.write at its end (one syscall
 * per socket instead of one per frame). It also enforces MAX_BUFFERED_BYTES.
 *
 * It owns its queues: `open` makes one per connection, and only this file reads or
 * writes what is in them. Whoever holds a queue (a session) hands it back to `enqueue`,
 * `flush`, `close` and `discard`, and learns of an overflow through the callback.
 */
import type { Socket } from 'node:net';

/** A connection's queue, as its holder sees it: opaque. */
export interface OutboxQueue {
  readonly socket: Socket;
}

/** Something with a queue: what `enqueue` and the other operations take. */
export interface Queued {
  readonly queue: OutboxQueue;
}

class Queue<Owner> implements OutboxQueue {
  /** Frames queued this tick: one Buffer, or an array once there are two. */
  pending: Buffer | Buffer[] | null = null;
  /** Closing or closed: nothing more is queued or written. */
  stopped = false;

  constructor(
    readonly socket: Socket,
    readonly owner: Owner,
  ) {}
}

export class Outbox<Owner = unknown> {
  private dirty: Queue<Owner>[] = [];
  private spare: Queue<Owner>[] = [];
  private scheduled = false;
  /** The last concatenated chunk of this flush and the frames it was made of. */
  private lastParts: Buffer[] | null = null;
  private lastChunk: Buffer | null = null;
  private readonly flushAll = (): void => this.flushDirty();

  constructor(
    private readonly maxBufferedBytes: number,
    /** A connection's unsent bytes went over MAX_BUFFERED_BYTES (slow consumer). */
    private readonly onOverflow: (owner: Owner) => void,
  ) {}

  /** A queue for a new connection; `owner` is what `onOverflow` is told. */
  open(socket: Socket, owner: Owner): OutboxQueue {
    return new Queue(socket, owner);
  }

  /** Queues a complete frame; written at the end of this tick. */
  enqueue(target: Queued, frame: Buffer): void {
    const queue = target.queue as Queue<Owner>;
    if (queue.stopped) return;
    const pending = queue.pending;
    if (pending === null) {
      queue.pending = frame;
      this.dirty.push(queue);
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
      queue.pending = [pending, frame];
    }
  }

  /** Writes what is queued now (before a close frame, for instance). */
  flush(target: Queued): void {
    this.write(target.queue as Queue<Owner>);
  }

  /** Writes what is queued, then accepts nothing more (the connection is closing). */
  close(target: Queued): void {
    const queue = target.queue as Queue<Owner>;
    this.write(queue);
    queue.stopped = true;
  }

  /** Drops what is queued and accepts nothing more (the connection is gone or cut). */
  discard(target: Queued): void {
    const queue = target.queue as Queue<Owner>;
    queue.pending = null;
    queue.stopped = true;
  }

  private write(queue: Queue<Owner>): void {
    const pending = queue.pending;
    if (pending === null) return;
    queue.pending = null;
    const socket = queue.socket;
    if (queue.stopped || !socket.writable) return;
    // One chunk per socket per tick: concat costs a copy of a few hundred bytes,
    // far less than a write call (and its syscall) per frame.
    socket.write(Array.isArray(pending) ? this.chunkOf(pending) : pending);
    if (socket.writableLength > this.maxBufferedBytes) this.onOverflow(queue.owner);
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

  private flushDirty(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < dirty.length; i++) this.write(dirty[i]!);
    dirty.length = 0;
    this.spare = dirty;
    this.lastParts = null;
    this.lastChunk = null;
  }
}
