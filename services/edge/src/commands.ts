/**
 * The command router: ping, subscribe (with recovery), unsubscribe, and refresh (handed
 * to refresh.ts). Commands on one channel run in order; commands on different channels
 * run concurrently. Replies go out in the session's format; the hub replays history and
 * delivers events.
 */
import { Problem, type Command, type SubscribeCommand, type UnsubscribeCommand } from '@herald/protocol';
import type { Logger } from '@herald/runtime';
import { forbiddenMessage, mayReceive } from './channel-access.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { Hub, Recovery } from './hub.js';
import type { TokenRefresher } from './refresh.js';
import type { Session } from './session.js';
import { Subscription } from './subscription.js';

export interface CommandLimits {
  readonly maxSubscriptionsPerConnection: number;
}

export class CommandRouter {
  constructor(
    private readonly hub: Hub,
    private readonly limits: CommandLimits,
    private readonly metrics: EdgeMetrics,
    private readonly logger: Logger,
    private readonly refresher: TokenRefresher,
  ) {}

  dispatch(session: Session, command: Command): void {
    switch (command.type) {
      case 'ping':
        session.enqueue(session.format.pong(command.id));
        return;
      case 'subscribe':
        session.runInOrder(command.data.channel, () => this.subscribe(session, command));
        return;
      case 'unsubscribe':
        session.runInOrder(command.data.channel, () => this.unsubscribe(session, command));
        return;
      case 'refresh':
        this.refresher.handle(session, command);
        return;
    }
  }

  private async subscribe(session: Session, command: SubscribeCommand): Promise<void> {
    const { channel, since } = command.data;
    const replyTo = command.id;
    const { format } = session;
    if (session.closing) return;
    if (!mayReceive(session.identity, channel)) {
      session.sendError(Problem.forbidden, forbiddenMessage(channel), replyTo);
      return;
    }
    if (session.subscriptions.has(channel)) {
      // Already subscribed: every event after its current position is on its way.
      session.enqueue(format.subscribed(replyTo, { channel, recovered: since !== undefined, missed: 0 }));
      return;
    }
    const { maxSubscriptionsPerConnection } = this.limits;
    if (session.subscriptions.size >= maxSubscriptionsPerConnection) {
      session.sendError(Problem.tooManySubscriptions, `At most ${maxSubscriptionsPerConnection} subscriptions per connection`, replyTo);
      return;
    }

    const subscription = new Subscription(channel);
    session.subscriptions.set(channel, subscription);
    let recovery: Recovery | undefined;
    try {
      recovery = await this.hub.join(session, subscription, since);
    } catch (error) {
      this.logger.warn({ err: error, connection: session.id, channel }, 'subscribe failed');
      if (session.subscriptions.get(channel) === subscription) {
        session.subscriptions.delete(channel);
        this.hub.leave(session, subscription);
        session.sendError(Problem.internal, `Could not subscribe to ${channel}; try again`, replyTo);
      }
      return;
    }
    if (session.closing || session.subscriptions.get(channel) !== subscription) return;

    // The reply first; the hub then replays history (if any) and goes live.
    if (recovery === undefined) {
      session.enqueue(format.subscribed(replyTo, { channel, recovered: false, missed: 0 }));
    } else if (recovery.complete) {
      session.enqueue(format.subscribed(replyTo, { channel, recovered: true, missed: recovery.missed.length }));
      this.metrics.recovery('recovered');
    } else {
      session.enqueue(format.subscribed(replyTo, { channel, recovered: false, missed: 0 }));
      session.sendError(
        Problem.continuityLost,
        `Events of ${channel} after ${since} are no longer available; resync from your source of truth`,
        undefined,
        channel,
      );
      this.metrics.recovery('continuity-lost');
    }
    this.hub.sendRecovery(session, subscription, recovery);
  }

  private async unsubscribe(session: Session, command: UnsubscribeCommand): Promise<void> {
    const { channel } = command.data;
    const subscription = session.subscriptions.get(channel);
    if (subscription) {
      session.subscriptions.delete(channel);
      this.hub.leave(session, subscription);
    }
    session.enqueue(session.format.unsubscribed(command.id, channel));
  }
}
