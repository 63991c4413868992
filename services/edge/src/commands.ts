/**
 * The command router: ping, subscribe (with recovery), unsubscribe. Commands on one
 * channel run in order; commands on different channels run concurrently.
 */
import {
  Problem,
  compareSeq,
  encodePong,
  encodeSubscribed,
  encodeUnsubscribed,
  type Command,
  type SubscribeCommand,
  type UnsubscribeCommand,
} from '@herald/protocol';
import type { HistoryResult } from '@herald/broker';
import { frameText } from './frame.js';
import type { Session } from './session.js';
import { Subscription } from './subscription.js';

export function dispatchCommand(session: Session, command: Command): void {
  switch (command.type) {
    case 'ping':
      session.send(encodePong(command.id));
      return;
    case 'subscribe':
      session.runInOrder(command.data.channel, () => subscribe(session, command));
      return;
    case 'unsubscribe':
      session.runInOrder(command.data.channel, () => unsubscribe(session, command));
      return;
  }
}

async function subscribe(session: Session, command: SubscribeCommand): Promise<void> {
  const { channel, since } = command.data;
  const replyTo = command.id;
  if (session.closing) return;
  if (!session.identity.grants.allows(channel)) {
    session.sendError(Problem.forbidden, `Not allowed to subscribe to ${channel}`, replyTo);
    return;
  }
  if (session.subscriptions.has(channel)) {
    // Already subscribed: every event after its current position is on its way.
    session.send(encodeSubscribed(replyTo, { channel, recovered: since !== undefined, missed: 0 }));
    return;
  }
  const { maxSubscriptionsPerConnection } = session.context.options;
  if (session.subscriptions.size >= maxSubscriptionsPerConnection) {
    session.sendError(Problem.tooManySubscriptions, `At most ${maxSubscriptionsPerConnection} subscriptions per connection`, replyTo);
    return;
  }

  const { hub, broker, metrics, logger } = session.context;
  const subscription = new Subscription(channel);
  session.subscriptions.set(channel, subscription);
  let history: HistoryResult | undefined;
  try {
    // Live first (buffered in the subscription), then history: no gap between them.
    await hub.join(session, subscription);
    if (since !== undefined) history = await broker.history(channel, since);
  } catch (error) {
    logger.warn({ err: error, connection: session.id, channel }, 'subscribe failed');
    if (session.subscriptions.get(channel) === subscription) {
      session.subscriptions.delete(channel);
      hub.leave(session, subscription);
      session.sendError(Problem.internal, `Could not subscribe to ${channel}; try again`, replyTo);
    }
    return;
  }
  if (session.closing || session.subscriptions.get(channel) !== subscription) return;

  if (since === undefined) {
    session.send(encodeSubscribed(replyTo, { channel, recovered: false, missed: 0 }));
  } else if (history?.complete) {
    const missed = history.publications.filter((publication) => compareSeq(publication.seq, since) > 0);
    session.send(encodeSubscribed(replyTo, { channel, recovered: true, missed: missed.length }));
    subscription.lastSent = since;
    for (const publication of missed) {
      session.context.outbox.enqueue(session, frameText(publication.envelope));
      subscription.lastSent = publication.seq;
    }
    metrics.recovery('recovered');
  } else {
    session.send(encodeSubscribed(replyTo, { channel, recovered: false, missed: 0 }));
    session.sendError(
      Problem.continuityLost,
      `Events of ${channel} after ${since} are no longer available; resync from your source of truth`,
      undefined,
      channel,
    );
    metrics.recovery('continuity-lost');
  }
  hub.activate(session, subscription);
}

async function unsubscribe(session: Session, command: UnsubscribeCommand): Promise<void> {
  const { channel } = command.data;
  const subscription = session.subscriptions.get(channel);
  if (subscription) {
    session.subscriptions.delete(channel);
    session.context.hub.leave(session, subscription);
  }
  session.send(encodeUnsubscribed(command.id, channel));
}
