/**
 * Liveness of one connection. Browsers never show WebSocket protocol pings to scripts,
 * so a server that vanished without a TCP reset (a dead NAT entry, a frozen node) looks
 * exactly like a quiet channel. The heartbeat sends an application-level `ping` command
 * when nothing has arrived for `pingInterval`, and declares the link dead when nothing
 * at all (event, reply, pong, protocol ping where visible) has arrived for `readTimeout`.
 *
 * One timer per connection, rescheduled only when it fires; `touch()` (called for every
 * inbound frame) is a single assignment, so the per-message cost stays flat.
 */
import { Timer, type Timers } from './clock.js';

export class Heartbeat {
  private readonly timer: Timer;
  private lastActivity = 0;
  private nextPingAt = 0;
  private pingInterval = 0;
  private readTimeout = 0;
  private appPing = true;

  constructor(
    private readonly timers: Timers,
    private readonly sendPing: () => void,
    private readonly onDead: (silentFor: number) => void,
  ) {
    this.timer = new Timer(timers, this.tick);
  }

  /**
   * Starts watching. `pingInterval` is clamped to half the read timeout so that one
   * lost pong cannot by itself make a live connection look dead.
   */
  start(pingInterval: number, readTimeout: number, appPing: boolean): void {
    const now = this.timers.now();
    this.readTimeout = Math.max(1, readTimeout);
    this.pingInterval = Math.max(1, Math.min(pingInterval, this.readTimeout / 2));
    this.appPing = appPing;
    this.lastActivity = now;
    this.nextPingAt = now + this.pingInterval;
    this.schedule(now);
  }

  /** Something arrived: the link is alive. Hot path: one clock read, one store. */
  touch(): void {
    this.lastActivity = this.timers.now();
  }

  stop(): void {
    this.timer.stop();
  }

  private schedule(now: number): void {
    const deadline = this.lastActivity + this.readTimeout;
    const next = this.appPing ? Math.min(this.nextPingAt, deadline) : deadline;
    this.timer.start(next - now);
  }

  private readonly tick = (): void => {
    const now = this.timers.now();
    const silentFor = now - this.lastActivity;
    if (silentFor >= this.readTimeout) {
      this.onDead(silentFor);
      return;
    }
    if (this.appPing && now >= this.nextPingAt) {
      // A connection that delivered something recently has proved itself; only an
      // idle one spends a ping (and a token of the server's command rate limit).
      if (silentFor >= this.pingInterval) this.sendPing();
      this.nextPingAt = now + this.pingInterval;
    }
    this.schedule(now);
  };
}
