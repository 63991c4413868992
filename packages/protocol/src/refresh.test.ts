import { describe, expect, it } from 'vitest';
import { decodeCommand } from './commands.js';
import { encodeRefreshed, encodeUnsubscribed } from './frames.js';

describe('refresh (PROTOCOL.md section 11)', () => {
  it('decodes {"type":"refresh","data":{"token"}}; any string is a token to judge, anything else is invalid', () => {
    expect(decodeCommand('{"type":"refresh","id":"r1","data":{"token":"a.b.c"}}')).toEqual({ ok: true, command: { type: 'refresh', id: 'r1', data: { token: 'a.b.c' } } });
    expect(decodeCommand('{"type":"refresh","data":{"token":""}}')).toMatchObject({ ok: true, command: { data: { token: '' } } });
    expect(decodeCommand('{"type":"refresh","id":"r2","data":{"token":7}}')).toMatchObject({ ok: false, problem: { type: '/problems/invalid-message' }, replyTo: 'r2' });
    expect(decodeCommand('{"type":"refresh"}')).toMatchObject({ ok: false, problem: { type: '/problems/invalid-message' } });
  });

  it('encodes refreshed and unsubscribed with a reason; data keys left out when absent', () => {
    expect(JSON.parse(encodeRefreshed('r1', '2026-11-21T11:00:00.000Z'))).toMatchObject({ type: 'refreshed', replyTo: 'r1', data: { expiresAt: '2026-11-21T11:00:00.000Z' } });
    expect(JSON.parse(encodeRefreshed(undefined)).data).toEqual({});
    expect(JSON.parse(encodeUnsubscribed(undefined, 'merchant:m_1', 'forbidden'))).toMatchObject({ type: 'unsubscribed', data: { channel: 'merchant:m_1', reason: 'forbidden' } });
    expect(JSON.parse(encodeUnsubscribed('u1', 'merchant:m_1')).data).toEqual({ channel: 'merchant:m_1' });
  });
});
