import { describe, expect, it } from 'vitest';
import type { Broker } from '@herald/broker';
import type { Logger } from '@herald/runtime';
import type { EdgeMetrics } from './edge-metrics.js';
import { Hub } from './hub.js';
import type { Outbox } from './outbox.js';
import type { Session } from './session.js';
import { Subscription } from './subscription.js';

const channel = 'merchant:m_1';

function envelope(seq: string): Buffer {
  return Buffer.from(JSON.stringify({ type: 'payment.created', id: `evt_${seq}`, timestamp: '2026-11-21T10:00:00.000Z', channel, seq, data: {} }));
}

/** `broker` adds to (or replaces) the stub broker's members. */
function setup(broker: Record<string, unknown> = {}) {
  const sent = new Map<Session, string[]>();
  const outbox = {
    enqueue(session: Session, frame: Buffer) {
      const seq = /"seq":"([^"]+)"/.exec(frame.toString('latin1'))?.[1] ?? '?';
      sent.set(session, [...(sent.get(session) ?? []), seq]);
    },
  } as unknown as Outbox;
  const stub = { subscribe: () => Promise.resolve(), unsubscribe: () => Promise.resolve(), position: () => Promise.resolve(undefined), ...broker } as unknown as Broker;
  const metrics = { publications: 0, deliveries: 0, observeLag() {}, gapFill() {} } as unknown as EdgeMetrics;
  const logger = { warn() {}, info() {}, debug() {} } as unknown as Logger;
  const hub = new Hub(stub, outbox, metrics, logger);
  return { hub, sent, outbox };
}

const session = (name: string) => ({ id: name }) as unknown as Session;

describe('hub: recovery against the live feed', () => {
  it('history read ahead of the live feed: the events it already sent are not sent again when they arrive live', async () => {
    const { hub, sent, outbox } = setup();
    const a = session('a');
    const subA = new Subscription(channel);
    await hub.join(a, subA);
    hub.sendRecovery(a, subA);
    hub.onPublication(channel, '100-0', envelope('100-0'));

    // b resubscribes with since=100-0; history (another broker connection) already has 101-0,
    // whose live copy has not reached this node yet.
    const b = session('b');
    const subB = new Subscription(channel);
    await hub.join(b, subB);
    outbox.enqueue(b, Buffer.from('{"seq":"101-0"}')); // what commands.ts sends from history
    subB.lastSent = '101-0';
    hub.sendRecovery(b, subB);

    hub.onPublication(channel, '101-0', envelope('101-0')); // the live copy, late
    hub.onPublication(channel, '102-0', envelope('102-0'));
    hub.onPublication(channel, '103-0', envelope('103-0'));

    expect(sent.get(a)).toEqual(['100-0', '101-0', '102-0', '103-0']);
    expect(sent.get(b)).toEqual(['101-0', '102-0', '103-0']);
  });

  it('history behind or level with the live feed: buffered events newer than it are flushed at once', async () => {
    const { hub, sent } = setup();
    const a = session('a');
    const subA = new Subscription(channel);
    await hub.join(a, subA);
    hub.sendRecovery(a, subA);

    const b = session('b');
    const subB = new Subscription(channel);
    await hub.join(b, subB);
    hub.onPublication(channel, '100-0', envelope('100-0')); // buffered for b while it recovers
    hub.onPublication(channel, '101-0', envelope('101-0'));
    subB.lastSent = '100-0';
    hub.sendRecovery(b, subB);
    hub.onPublication(channel, '102-0', envelope('102-0'));

    expect(sent.get(b)).toEqual(['101-0', '102-0']);
  });

  it('a recovered session on a channel this node has delivered nothing on yet goes live with the first newer event', async () => {
    const { hub, sent } = setup();
    const b = session('b');
    const subB = new Subscription(channel);
    await hub.join(b, subB);
    subB.lastSent = '105-0';
    hub.sendRecovery(b, subB);
    hub.onPublication(channel, '104-0', envelope('104-0'));
    hub.onPublication(channel, '105-0', envelope('105-0'));
    hub.onPublication(channel, '106-0', envelope('106-0'));
    expect(sent.get(b)).toEqual(['106-0']);
  });
});

describe('hub: channels lost on part of the cluster', () => {
  it('stalls only the lost channel, fills its gap from history when restored, and is ready again', async () => {
    const other = 'merchant:m_2';
    // History of the lost channel: what was published while its feed was down.
    const history = new Map([[channel, [{ seq: '101-0', envelope: envelope('101-0') }, { seq: '102-0', envelope: envelope('102-0') }]]]);
    const { hub, sent } = setup({
      state: 'ready',
      history: (name: string) => Promise.resolve({ complete: true, publications: history.get(name) ?? [] }),
    });
    const a = session('a');
    const subA = new Subscription(channel);
    const subOther = new Subscription(other);
    await Promise.all([hub.join(a, subA), hub.join(a, subOther)]);
    hub.sendRecovery(a, subA);
    hub.sendRecovery(a, subOther);
    hub.onPublication(channel, '100-0', envelope('100-0'));

    hub.onChannelsLost([channel]);
    expect(hub.notReadyReason()).toBe('1 channel(s) are re-establishing their subscription');
    // The other channel keeps delivering.
    hub.onPublication(other, '200-0', envelope('200-0'));
    hub.onChannelsRestored([channel]);
    hub.onPublication(channel, '103-0', envelope('103-0')); // live during the fill: buffered
    await new Promise((resolve) => setImmediate(resolve));

    expect(sent.get(a)).toEqual(['100-0', '200-0', '101-0', '102-0', '103-0']);
    expect(hub.notReadyReason()).toBeUndefined();
  });
});

describe('hub: a channel subscribed while the broker link is down', () => {
  it('fills from history when its subscription goes live: the events published meanwhile reach the waiting session', async () => {
    let live!: () => void;
    const reads: string[] = [];
    const { hub, sent } = setup({
      state: 'disconnected',
      // The position cannot be read while the link is down.
      position: () => Promise.reject(new Error('link down')),
      subscribe: () => new Promise<void>((resolve) => (live = resolve)),
      history: (_: string, since: string) => {
        reads.push(since);
        // A channel whose log began during the outage: whole from the origin.
        return Promise.resolve({ complete: true, publications: [{ seq: '101-0', envelope: envelope('101-0') }, { seq: '102-0', envelope: envelope('102-0') }] });
      },
    });
    const a = session('a');
    const subA = new Subscription(channel);
    hub.onDisconnected();
    const joined = hub.join(a, subA); // asked while the link is down
    hub.onResubscribed();
    live();
    await joined;
    hub.sendRecovery(a, subA);
    hub.onPublication(channel, '102-0', envelope('102-0')); // a late live copy: not sent twice
    hub.onPublication(channel, '103-0', envelope('103-0'));

    expect(reads).toEqual(['0-0']);
    expect(sent.get(a)).toEqual(['101-0', '102-0', '103-0']);
  });

  it('a channel that never began: nothing missed, no continuity-lost', async () => {
    let live!: () => void;
    const { hub, sent } = setup({
      state: 'ready',
      position: () => Promise.reject(new Error('link down')),
      subscribe: () => new Promise<void>((resolve) => (live = resolve)),
      history: () => Promise.resolve({ complete: false, reason: 'unknown-channel' }),
    });
    const a = session('a');
    const subA = new Subscription(channel);
    const joined = hub.join(a, subA);
    hub.onDisconnected();
    live();
    await joined;
    hub.sendRecovery(a, subA);
    hub.onPublication(channel, '100-0', envelope('100-0'));
    expect(sent.get(a)).toEqual(['100-0']);
  });
});
