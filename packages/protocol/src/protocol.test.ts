import { describe, expect, it } from 'vitest';
import { Grants, MAX_CHANNEL_LENGTH, isValidChannel, parseGrantClaim } from './channels.js';
import { decodeCommand } from './commands.js';
import { completeEnvelope, envelopeTemplate } from './envelope.js';
import { encodeError } from './frames.js';
import { Problem } from './problems.js';
import { compareSeq, isValidSeq } from './seq.js';

describe('channel names', () => {
  it.each(['merchant:m_42', 'payment:pay_456', 'order:order-789', 'a', 'a:b.c:d', 'x_y-z'])('accepts %s', (name) => {
    expect(isValidChannel(name)).toBe(true);
  });
  it.each(['', ':a', 'a:', 'a::b', 'a b', 'a:b c', 'ä', 'a.b', 'a:*', 'a:b/c'])('rejects "%s"', (name) => {
    expect(isValidChannel(name)).toBe(false);
  });
  it('caps the length at 200', () => {
    expect(isValidChannel('a'.repeat(MAX_CHANNEL_LENGTH))).toBe(true);
    expect(isValidChannel('a'.repeat(MAX_CHANNEL_LENGTH + 1))).toBe(false);
  });
});

describe('grants', () => {
  const grants = new Grants(['merchant:m_42', 'payment:*']);
  it('matches exact names and prefixes ending in *', () => {
    expect(grants.allows('merchant:m_42')).toBe(true);
    expect(grants.allows('payment:pay_1')).toBe(true);
    expect(grants.allows('merchant:m_420')).toBe(false);
    expect(grants.allows('merchant:m_4')).toBe(false);
    expect(grants.allows('order:o_1')).toBe(false);
  });
  it('grants nothing without a claim', () => {
    expect(new Grants(parseGrantClaim(undefined)!).allows('merchant:m_42')).toBe(false);
  });
  it('rejects a claim that is not an array of strings', () => {
    expect(parseGrantClaim('merchant:m_42')).toBeUndefined();
    expect(parseGrantClaim([1])).toBeUndefined();
  });
});

describe('seq', () => {
  it('orders by milliseconds then counter, numerically', () => {
    expect(compareSeq('9-0', '10-0')).toBeLessThan(0);
    expect(compareSeq('10-2', '10-10')).toBeLessThan(0);
    expect(compareSeq('10-10', '10-10')).toBe(0);
    expect(compareSeq('11-0', '10-99')).toBeGreaterThan(0);
  });
  it('validates the shape', () => {
    expect(isValidSeq('1763719200123-0')).toBe(true);
    expect(isValidSeq('1763719200123')).toBe(false);
    expect(isValidSeq('a-0')).toBe(false);
    expect(isValidSeq(5)).toBe(false);
  });
});

describe('decodeCommand', () => {
  it('decodes subscribe with since and id', () => {
    expect(decodeCommand('{"type":"subscribe","id":"c1","data":{"channel":"merchant:m_42","since":"1-0"}}')).toEqual({
      ok: true,
      command: { type: 'subscribe', id: 'c1', data: { channel: 'merchant:m_42', since: '1-0' } },
    });
  });
  it('decodes ping without id', () => {
    expect(decodeCommand('{"type":"ping"}')).toEqual({ ok: true, command: { type: 'ping' } });
  });
  it.each([
    ['not json', 'not valid JSON'],
    ['[1]', 'object'],
    ['"x"', 'object'],
    ['{"id":"1"}', 'type'],
    ['{"type":"subscribe"}', 'data'],
    ['{"type":"subscribe","data":{"channel":5}}', 'channel'],
    ['{"type":"subscribe","data":{"channel":"a","since":"x"}}', 'since'],
    [`{"type":"ping","id":"${'x'.repeat(65)}"}`, 'id'],
    ['{"type":"ping","id":7}', 'id'],
  ])('answers invalid-message for %s', (text, mention) => {
    const result = decodeCommand(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem).toBe(Problem.invalidMessage);
      expect(result.message).toContain(mention);
    }
  });
  it('keeps the id of a bad command as replyTo', () => {
    const result = decodeCommand('{"type":"subscribe","id":"c9","data":{"channel":"bad channel"}}');
    expect(result).toMatchObject({ ok: false, problem: Problem.invalidChannel, replyTo: 'c9' });
  });
  it('answers unknown-type for an unknown command', () => {
    expect(decodeCommand('{"type":"publish","id":"c2"}')).toMatchObject({ ok: false, problem: Problem.unknownType, replyTo: 'c2' });
  });
});

describe('frames', () => {
  it('encodes the reach-maximum-connections error exactly', () => {
    const frame = JSON.parse(encodeError(Problem.reachMaximumConnections, 'Maximum number of connections reached'));
    expect(Object.keys(frame)).toEqual(['type', 'error', 'timestamp']);
    expect(frame.error).toEqual({ type: '/problems/reach-maximum-connections', message: 'Maximum number of connections reached' });
    expect(frame.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
  it('builds envelopes with keys in protocol order and escaped strings', () => {
    const template = envelopeTemplate({ type: 'payment.created', id: 'evt_"1"', timestamp: '2026-01-01T00:00:00.000Z', data: '{"a":1}' }, 'merchant:m_1');
    const envelope = JSON.parse(completeEnvelope(template, '5-1'));
    expect(Object.keys(envelope)).toEqual(['type', 'id', 'timestamp', 'channel', 'seq', 'data']);
    expect(envelope).toEqual({ type: 'payment.created', id: 'evt_"1"', timestamp: '2026-01-01T00:00:00.000Z', channel: 'merchant:m_1', seq: '5-1', data: { a: 1 } });
  });
});
