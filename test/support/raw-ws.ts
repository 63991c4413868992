/**
 * A WebSocket client on a bare TCP socket, for frames no well-behaved library sends
 * (unmasked frames, reserved bits, unknown opcodes, invalid UTF-8): the test writes
 * the bytes it wants and reads the server's frames as they are.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export interface RawConnection {
  socket: Socket;
  /** The status line and headers of the handshake answer. */
  status: number;
  headers: string;
  /** Resolves with the next complete frame from the server, or undefined at EOF. */
  nextFrame(timeoutMs?: number): Promise<RawFrame | undefined>;
  /** Reads frames until a close frame; resolves with its code (1005 when none, 1006 at EOF). */
  closeCode(timeoutMs?: number): Promise<number>;
  write(bytes: Buffer): void;
  destroy(): void;
}

/** Performs the opening handshake on `path` and resolves once the server answered. */
export function rawConnect(port: number, path: string, headers: Record<string, string> = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let ended = false;
    let handshakeDone = false;
    let wake: (() => void) | undefined;
    socket.on('error', (error) => {
      if (!handshakeDone) reject(error);
      ended = true;
      wake?.();
    });
    socket.on('end', () => {
      ended = true;
      wake?.();
    });
    socket.on('close', () => {
      ended = true;
      wake?.();
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!handshakeDone) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        handshakeDone = true;
        const head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        resolve(connection(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head));
      }
      wake?.();
    });
    socket.on('connect', () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });

    function takeFrame(): RawFrame | undefined {
      if (buffer.length < 2) return undefined;
      const first = buffer[0]!;
      const second = buffer[1]!;
      let length = second & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return undefined;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return undefined;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (second & 0x80) offset += 4; // servers never mask, but be safe
      if (buffer.length < offset + length) return undefined;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      buffer = buffer.subarray(offset + length);
      return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload };
    }

    function connection(status: number, head: string): RawConnection {
      const nextFrame = async (timeoutMs = 5_000): Promise<RawFrame | undefined> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const frame = takeFrame();
          if (frame) return frame;
          if (ended) return undefined;
          const remaining = deadline - Date.now();
          if (remaining <= 0) throw new Error(`no frame within ${timeoutMs}ms`);
          await new Promise<void>((done) => {
            const timer = setTimeout(done, remaining);
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              done();
            };
          });
        }
      };
      return {
        socket,
        status,
        headers: head,
        nextFrame,
        async closeCode(timeoutMs = 5_000) {
          for (;;) {
            const frame = await nextFrame(timeoutMs);
            if (!frame) return 1006;
            if (frame.opcode === 0x8) return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
          }
        },
        write: (bytes) => void socket.write(bytes),
        destroy: () => socket.destroy(),
      };
    }
  });
}

export interface FrameOptions {
  fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4). */
  rsv?: number;
  /** Clients must mask; `false` sends an unmasked frame. */
  mask?: boolean;
}

/** One client frame with the given opcode and payload. */
export function clientFrame(opcode: number, payload: Buffer | string, options: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = options.mask ?? true;
  const header: number[] = [((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (data.length < 126) header.push(maskBit | data.length);
  else if (data.length < 65_536) header.push(maskBit | 126, data.length >> 8, data.length & 0xff);
  else {
    header.push(maskBit | 127);
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(data.length));
    header.push(...length);
  }
  if (!mask) return Buffer.concat([Buffer.from(header), data]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(header), key, masked]);
}
