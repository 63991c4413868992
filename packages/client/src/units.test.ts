import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { Emitter } from './emitter.js';
import { Heartbeat } from './heartbeat.js';
import { normaliseUrl } from './options.js';
import { CommandPacer } from './pacer.js';
import { ManualTimers } from '../test-support/timers.js';

describe('backoff', () => {
  const options = { ...DEFAULT_BACKOFF, initialDelay: 100, maxDelay: 1_000, factor: 3 };

  it('grows the window by factor up to the cap', () => {
    expect([0, 1, 2, 3, 4].map((attempt) => backoffCeiling(options, attempt))).toEqual([100, 300, 900, 1_000, 1_000]);
    expect(backoffCeiling(options, 10_000)).toBe(1_000); // no overflow to NaN
  });

  it('draws uniformly from the whole window (full jitter)', () => {
    expect(backoffDelay(options, 2, () => 0)).toBe(0);
    expect(backoffDelay(options, 2, () => 0.5)).toBe(450);
    expect(backoffDelay(options, 2, () => 0.999_999)).toBe(899);
  });
});

describe('Heartbeat', () => {
  it('pings only when idle and declares the link dead after readTimeout of silence', () => {
    const timers = new ManualTimers();
    const pings: number[] = [];
    const dead: number[] = [];
    const heartbeat = new Heartbeat(timers, () => pings.push(timers.now()), (silentFor) => dead.push(timers.now(), silentFor));
    heartbeat.start(30, 100, true);

    timers.advance(40);
    heartbeat.touch(); // something arrived at t=40
    timers.advance(200);

    expect(pings).toEqual([30, 90, 120]); // t=60 skipped: something arrived 20 ms before
    expect(dead).toEqual([140, 100]); // 40 + readTimeout
    expect(timers.active).toBe(0);
  });

  it('clamps the ping interval to half the read timeout, and stops cleanly', () => {
    const timers = new ManualTimers();
    const pings: number[] = [];
    const heartbeat = new Heartbeat(timers, () => pings.push(timers.now()), () => {});
    heartbeat.start(1_000, 100, true);
    timers.advance(60);
    expect(pings).toEqual([50]);
    heartbeat.stop();
    expect(timers.active).toBe(0);
  });

  it('without application pings only watches for silence', () => {
    const timers = new ManualTimers();
    const pings: number[] = [];
    let deadAt = -1;
    const heartbeat = new Heartbeat(timers, () => pings.push(timers.now()), () => (deadAt = timers.now()));
    heartbeat.start(30, 100, false);
    timers.advance(500);
    expect(pings).toEqual([]);
    expect(deadAt).toBe(100);
  });
});

describe('CommandPacer', () => {
  it('sends a burst up to the rate, then one per 1/rate seconds, in order', () => {
    const timers = new ManualTimers();
    const sent: [string, number][] = [];
    const pacer = new CommandPacer(2, timers, (text) => sent.push([text, timers.now()]));
    for (const text of ['a', 'b', 'c', 'd', 'e']) pacer.send(text);
    expect(sent).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect(pacer.queued).toBe(3);
    timers.advance(1_500);
    expect(sent.slice(2)).toEqual([
      ['c', 500],
      ['d', 1_000],
      ['e', 1_500],
    ]);
    pacer.send('f');
    pacer.clear();
    expect(timers.active).toBe(0);
  });

  it('runs onSent when the command is written', () => {
    const timers = new ManualTimers();
    const pacer = new CommandPacer(1, timers, () => {});
    const order: string[] = [];
    pacer.send('a', () => order.push('a'));
    pacer.send('b', () => order.push('b'));
    expect(order).toEqual(['a']);
    timers.advance(1_000);
    expect(order).toEqual(['a', 'b']);
  });
});

describe('Emitter', () => {
  it('keeps delivering when a listener throws, and rethrows on a microtask', async () => {
    const emitter = new Emitter<{ tick: [n: number] }>();
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('boom');
    });
    emitter.on('tick', (n) => seen.push(n));
    const rethrown = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      globalThis.queueMicrotask = (callback) => {
        globalThis.queueMicrotask = original;
        try {
          callback();
        } catch (error) {
          resolve(error);
        }
      };
    });
    emitter.emit('tick', 1);
    expect(seen).toEqual([1]);
    expect(await rethrown).toMatchObject({ message: 'boom' });
  });

  it('removes listeners, also while emitting', () => {
    const emitter = new Emitter<{ tick: [] }>();
    const calls: string[] = [];
    const offB = emitter.on('tick', () => calls.push('b'));
    emitter.on('tick', () => {
      calls.push('a');
      offB();
    });
    emitter.once('tick', () => calls.push('once'));
    emitter.emit('tick');
    emitter.emit('tick');
    expect(calls).toEqual(['b', 'a', 'once', 'a']);
  });
});

describe('normaliseUrl', () => {
  it('adds /v1/ws to a bare origin and maps http(s) to ws(s)', () => {
    expect(normaliseUrl('https://herald.example.com')).toBe('wss://herald.example.com/v1/ws');
    expect(normaliseUrl('ws://localhost:8080/')).toBe('ws://localhost:8080/v1/ws');
    expect(normaliseUrl('wss://h.example/v1/ws')).toBe('wss://h.example/v1/ws');
    expect(() => normaliseUrl('ftp://h')).toThrow(TypeError);
  });
});
