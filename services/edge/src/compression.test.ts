import { constants, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflateMessage, frameCompressedText } from './compression.js';

describe('shared permessage-deflate', () => {
  const payload = Buffer.from(JSON.stringify({ type: 'payment.created', data: { description: 'order '.repeat(100) } }));

  it('deflates a message that inflates back once the RFC 7692 tail is appended', () => {
    const deflated = deflateMessage(payload);
    expect(deflated.length).toBeLessThan(payload.length / 4);
    expect(inflateRawSync(Buffer.concat([deflated, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH })).toEqual(payload);
  });

  it('is the same bytes every time: one frame fits every connection', () => {
    expect(deflateMessage(payload)).toEqual(deflateMessage(payload));
  });

  it('frames it as a final text frame with RSV1 set', () => {
    const frame = frameCompressedText(payload);
    expect(frame[0]).toBe(0x80 | 0x40 | 0x1);
    expect(frame[1]! & 0x80).toBe(0); // server frames are not masked
  });
});
