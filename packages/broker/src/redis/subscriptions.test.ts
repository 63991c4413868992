import { describe, expect, it } from 'vitest';
import { BrokerUnavailableError } from '../broker.js';
import type { LinkEvents, PubSubLink } from '@herald/redis';
import { Subscriptions } from './subscriptions.js';

interface Call {
  kind: 'sub' | 'unsub';
  channels: string[];
  resolve(): void;
  reject(error: Error): void;
}

/** A link whose commands are answered by the test, in any order it likes. */
class FakeLink implements PubSubLink {
  readonly calls: Call[] = [];
  /** Answer every command at once (the default) or leave it to the test. */
  autoReply = true;
  /** Channels whose subscribe commands fail. */
  readonly failing = new Set<string>();

  isUp(): boolean {
    return true;
  }
  group(channels: readonly string[]): string[][] {
    // One group per first letter, like one group per slot.
    const groups = new Map<string, string[]>();
    for (const channel of channels) {
      const key = channel[0]!;
      groups.set(key, [...(groups.get(key) ?? []), channel]);
    }
    return [...groups.values()];
  }
  subscribe(channels: readonly string[]): Promise<unknown> {
    return this.command('sub', channels);
  }
  unsubscribe(channels: readonly string[]): Promise<unknown> {
    return this.command('unsub', channels);
  }
  attach(_events: LinkEvents): void {}
  detach(): void {}

  private command(kind: 'sub' | 'unsub', channels: readonly string[]): Promise<unknown> {
    return new Promise<void>((resolve, reject) => {
      this.calls.push({ kind, channels: [...channels], resolve, reject });
      if (kind === 'sub' && channels.some((channel) => this.failing.has(channel))) reject(new Error('shard down'));
      else if (this.autoReply) resolve();
    });
  }

  summary(): string[] {
    return this.calls.map((call) => `${call.kind} ${call.channels.join(',')}`);
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(active = true) {
  const link = new FakeLink();
  const failures: unknown[] = [];
  const subscriptions = new Subscriptions(link, (error) => failures.push(error));
  if (active) subscriptions.resume();
  return { link, subscriptions, failures };
}

describe('Subscriptions', () => {
  it('batches the calls of one tick into one command per group', async () => {
    const { link, subscriptions } = setup();
    await Promise.all([subscriptions.add('a1', 'A1'), subscriptions.add('a2', 'A2'), subscriptions.add('b1', 'B1')]);
    expect(link.summary()).toEqual(['sub a1,a2', 'sub b1']);
    expect(subscriptions.lookup('a2')).toBe('A2');
    await subscriptions.remove('a1');
    await subscriptions.remove('b1');
    expect(link.summary().slice(2)).toEqual(['unsub a1', 'unsub b1']);
    expect(subscriptions.lookup('a1')).toBeUndefined();
  });

  it('sends only the net effect of calls made in the same tick', async () => {
    const { link, subscriptions } = setup();
    await Promise.all([
      subscriptions.add('a', 'A'),
      subscriptions.remove('a'),
      subscriptions.add('a', 'A'),
      subscriptions.add('b', 'B'),
      subscriptions.remove('b'),
    ]);
    expect(link.summary()).toEqual(['sub a']);
    expect(subscriptions.lookup('a')).toBe('A');
    expect(subscriptions.lookup('b')).toBeUndefined();
  });

  it('keeps call order across ticks and lets only the latest reply count', async () => {
    const { link, subscriptions } = setup();
    link.autoReply = false;
    let firstDone = false;
    const first = subscriptions.add('a', 'A').then(() => (firstDone = true));
    await tick();
    const removed = subscriptions.remove('a');
    await tick();
    // The first subscribe was superseded by the unsubscribe: its caller is released.
    await first;
    expect(firstDone).toBe(true);
    let lastDone = false;
    const last = subscriptions.add('a', 'A').then(() => (lastDone = true));
    await tick();
    expect(link.summary()).toEqual(['sub a', 'unsub a', 'sub a']);
    // Replies in order; the last subscribe resolves only with its own reply.
    link.calls[0]!.resolve();
    link.calls[1]!.resolve();
    await removed;
    await tick();
    expect(lastDone).toBe(false);
    link.calls[2]!.resolve();
    await last;
    expect(subscriptions.lookup('a')).toBe('A');
  });

  it('reports a failed command while active', async () => {
    const { link, subscriptions, failures } = setup();
    link.failing.add('a');
    void subscriptions.add('a', 'A');
    await tick();
    await tick();
    expect(failures).toHaveLength(1);
  });

  it('sends nothing while suspended, then resubscribes everything in one round', async () => {
    const { link, subscriptions } = setup();
    await subscriptions.add('a', 'A');
    await subscriptions.add('b', 'B');
    subscriptions.suspend();
    let addedDone = false;
    const added = subscriptions.add('c', 'C').then(() => (addedDone = true));
    await subscriptions.remove('b');
    await tick();
    expect(link.summary()).toEqual(['sub a', 'sub b']);
    expect(addedDone).toBe(false);
    expect(await subscriptions.resync()).toBe(true);
    // Live on the server, but publications flow only once the owner resumes.
    await tick();
    expect(addedDone).toBe(false);
    subscriptions.resume();
    await added;
    expect(link.summary().slice(2)).toEqual(['unsub b', 'sub a', 'sub c']);
  });

  it('probes with one failed group before resending everything', async () => {
    const { link, subscriptions } = setup();
    await Promise.all([subscriptions.add('a', 'A'), subscriptions.add('b', 'B')]);
    subscriptions.suspend();
    link.failing.add('b');
    expect(await subscriptions.resync()).toBe(false);
    expect(link.summary().slice(2)).toEqual(['sub a', 'sub b']);
    subscriptions.suspend();
    // Still down: only the probe goes out.
    expect(await subscriptions.resync()).toBe(false);
    expect(link.summary().slice(4)).toEqual(['sub b']);
    subscriptions.suspend();
    link.failing.clear();
    expect(await subscriptions.resync()).toBe(true);
    expect(link.summary().slice(5)).toEqual(['sub b', 'sub a']);
  });

  it('does not count a resync interrupted by a suspension', async () => {
    const { link, subscriptions } = setup();
    await subscriptions.add('a', 'A');
    subscriptions.suspend();
    link.autoReply = false;
    const result = subscriptions.resync();
    subscriptions.suspend();
    link.calls.at(-1)!.resolve();
    expect(await result).toBe(false);
  });

  it('loses some channels while the others stay live, and restores them', async () => {
    const link = new FakeLink();
    const restored: string[][] = [];
    const subscriptions = new Subscriptions(link, () => {}, (channels) => restored.push([...channels]));
    subscriptions.resume();
    await Promise.all([subscriptions.add('a1', 'A1'), subscriptions.add('b1', 'B1')]);
    expect(subscriptions.lose(['a1', 'x'])).toEqual(['a1']);
    // Nothing is delivered for a lost channel; the others still deliver.
    expect(subscriptions.lookup('a1')).toBeUndefined();
    expect(subscriptions.lookup('b1')).toBe('B1');
    expect(subscriptions.lostCount).toBe(1);
    // Lost twice is lost once.
    expect(subscriptions.lose(['a1'])).toEqual([]);
    link.failing.add('a1');
    expect(await subscriptions.restoreLost()).toBe(1);
    expect(restored).toEqual([]);
    link.failing.clear();
    expect(await subscriptions.restoreLost()).toBe(0);
    expect(restored).toEqual([['a1']]);
    expect(subscriptions.lookup('a1')).toBe('A1');
    expect(link.summary()).toEqual(['sub a1', 'sub b1', 'sub a1', 'sub a1']);
  });

  it('does not count a restore reply for a channel lost again meanwhile', async () => {
    const link = new FakeLink();
    const restored: string[][] = [];
    const subscriptions = new Subscriptions(link, () => {}, (channels) => restored.push([...channels]));
    subscriptions.resume();
    await subscriptions.add('a', 'A');
    subscriptions.lose(['a']);
    link.autoReply = false;
    const round = subscriptions.restoreLost();
    // The node that took the restore dropped it before answering.
    subscriptions.lose(['a']);
    link.calls.at(-1)!.resolve();
    expect(await round).toBe(1);
    expect(restored).toEqual([]);
    expect(subscriptions.lookup('a')).toBeUndefined();
  });

  it('forgets partial losses on a suspension: the resync covers every channel', async () => {
    const { subscriptions } = setup();
    await subscriptions.add('a', 'A');
    subscriptions.lose(['a']);
    subscriptions.suspend();
    expect(subscriptions.lostCount).toBe(0);
    expect(await subscriptions.resync()).toBe(true);
    subscriptions.resume();
    expect(subscriptions.lookup('a')).toBe('A');
  });

  it('rejects waiting subscribes on close', async () => {
    const { subscriptions } = setup(false);
    const waiting = subscriptions.add('a', 'A');
    subscriptions.close();
    await expect(waiting).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(subscriptions.add('b', 'B')).rejects.toBeInstanceOf(BrokerUnavailableError);
  });
});
