import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { PING_FRAME, frameText } from './frame.js';

function parse(frames: Buffer): Array<{ opcode: string; data: string }> {
  const out: Array<{ opcode: string; data: string }> = [];
  const receiver = new ((ws as unknown as { Receiver: unknown }).Receiver as new (options: object) => NodeJS.WritableStream & NodeJS.EventEmitter)({ isServer: false });
  receiver.on('message', (data: Buffer) => out.push({ opcode: 'text', data: data.toString() }));
  receiver.on('ping', (data: Buffer) => out.push({ opcode: 'ping', data: data.toString() }));
  receiver.write(frames);
  return out;
}

describe('framing', () => {
  it.each([5, 125, 126, 65_535, 65_536, 200_000])('frames a %i-byte payload that ws reads back', (length) => {
    const payload = 'x'.repeat(length);
    expect(parse(frameText(payload))).toEqual([{ opcode: 'text', data: payload }]);
  });

  it('concatenated frames (one write per socket) are read as separate messages', () => {
    expect(parse(Buffer.concat([frameText('a'), PING_FRAME, frameText('b')]))).toEqual([
      { opcode: 'text', data: 'a' },
      { opcode: 'ping', data: '' },
      { opcode: 'text', data: 'b' },
    ]);
  });
});
