/** Shared set-up for the client tests: servers and clients closed after each test. */
import { HeraldClient } from '../src/index.js';
import type { ClientOptions } from '../src/options.js';
import type { SubscribedInfo, Subscription } from '../src/subscription.js';
import type { EventMap, HeraldEvent } from '../src/events.js';
import { ScriptedServer, type ScriptedServerOptions } from './scripted-server.js';
import { TrackingTimers } from './timers.js';

const cleanups: (() => Promise<void>)[] = [];

export async function startServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const server = await ScriptedServer.start(options);
  cleanups.push(() => server.close());
  return server;
}

export function makeClient(url: string, options: Partial<ClientOptions> = {}): { client: HeraldClient; timers: TrackingTimers } {
  const timers = new TrackingTimers();
  const client = new HeraldClient({
    url,
    token: 'tok_1',
    backoff: { initialDelay: 10, maxDelay: 50, goingAwayWindow: 50 },
    timers,
    ...options,
  });
  cleanups.push(() => client.close());
  return { client, timers };
}

/** Runs every cleanup registered by the test, clients first (they were made last). */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}

/** Resolves with the event of `seq` once the subscription delivered it. */
export function eventWithSeq<M extends EventMap>(sub: Subscription<M>, seq: string): Promise<HeraldEvent> {
  return new Promise((resolve) => {
    const off = sub.on('event', (event) => {
      if (event.seq !== seq) return;
      off();
      resolve(event);
    });
  });
}

export function nextSubscribed<M extends EventMap>(sub: Subscription<M>): Promise<SubscribedInfo> {
  return new Promise((resolve) => {
    sub.once('subscribed', resolve);
  });
}

export const payment = {
  payment_id: 'pay_456',
  order_id: 'order_789',
  merchant_id: 'm_42',
  amount: 10000,
  currency: 'EUR',
  status: 'pending',
};
