/**
 * A command waiting for its reply: what `Commands` keeps by command id and the router
 * settles when the reply (or an error naming it) arrives. Its own file, so that the two
 * share the shape without importing each other.
 */
import type { Timer } from './clock.js';
import type { EventMap } from './events.js';
import type { Subscription } from './subscription.js';

export type Pending = { timer: Timer; sentAt: number } & (
  | { kind: 'subscribe'; subscription: Subscription<EventMap> }
  | { kind: 'unsubscribe'; resolve: () => void }
  | { kind: 'ping'; resolve: (rtt: number) => void; reject: (error: Error) => void }
  | { kind: 'refresh'; resolve: (expiresAt: string | undefined) => void; reject: (error: Error) => void }
);

/** A pending entry before it is sent. */
export type PendingInit = Pending extends infer P ? (P extends unknown ? Omit<P, 'timer' | 'sentAt'> : never) : never;
