/**
 * A minimal WebSocket client for load generation: one TCP socket per connection, the
 * HTTP upgrade written by hand, and a frame scanner that counts server frames without
 * allocating per frame. Only the frames a scenario asks for are read (the handshake
 * replies, and sampled events whose `"t":` publish time gives the latency).
 *
 * Why not `ws` or socket.io-client: the load generators share the two cores with the
 * server under test; every microsecond a client spends per frame is taken from the
 * server. Every server (Herald, the raw `ws` reference, Socket.IO) is driven by the
 * same scanner, so the comparison is fair.
 *
 * Protocols:
 *   'herald'  Herald v1 (also spoken by the raw ws reference): connected, subscribe, subscribed
 *   'sio'     Engine.IO 4 / Socket.IO 5 over the websocket transport: open, 40, subscribe event
 */
import { decodeServerMessage, encodeClientCommand } from '@herald/protocol/protobuf';
import net from 'node:net';
import { inflateRawSync } from 'node:zlib';

const T_QUOTE = Buffer.from('"t":');
/**
 * Every socket of the process reads into this one buffer (net's `onread`): no Buffer is
 * allocated per read and Node's Readable machinery (push, addChunk, 'data') is skipped.
 * Each read is consumed before the next, so what must outlive it (a partial frame) is copied.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A masked client frame with a zero mask key (the payload is sent as is). */
export function clientFrame(text, opcode = 0x1) {
  const payload = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const len = payload.length;
  let header;
  if (len < 126) {
    header = Buffer.alloc(6);
    header[1] = 0x80 | len;
  } else {
    header = Buffer.alloc(8);
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  }
  header[0] = 0x80 | opcode;
  return Buffer.concat([header, payload]);
}

const PONG_EMPTY = clientFrame('', 0xa);
const SIO_PONG = clientFrame('3');
const SIO_CONNECT = clientFrame('40');
const CLOSE_1000 = (() => {
  const frame = Buffer.alloc(8);
  frame[0] = 0x88;
  frame[1] = 0x80 | 2;
  frame.writeUInt16BE(1000, 6);
  return frame;
})();

/**
 * The `t` (publish time) of a sampled v1.protobuf event. `t` sits in a Struct (`data`, or
 * a payment's `extra`) as the map entry {key: "t", value: {number_value: double}}: the
 * bytes 0a 01 74 12 09 11 (Value.number_value is field 2) then 8 bytes little-endian. Found by a scan, like `"t":` in
 * JSON, so sampling costs the generator no decoding; a full decode is the fallback.
 */
const T_ENTRY = Buffer.from([0x0a, 0x01, 0x74, 0x12, 0x09, 0x11]);
function protobufT(buf, start, end) {
  const at = buf.indexOf(T_ENTRY, start);
  if (at >= 0 && at + 14 <= end) return buf.readDoubleLE(at + 6);
  try {
    const t = decodeServerMessage(buf.subarray(start, end))?.data?.t;
    return typeof t === 'number' ? t : NaN;
  } catch {
    return NaN;
  }
}

/** Parses the number after the first `"t":` in `buf[start, end)`; NaN if absent. */
export function readT(buf, start, end) {
  const at = buf.indexOf(T_QUOTE, start);
  if (at < 0 || at >= end) return NaN;
  let i = at + 4;
  let int = 0;
  let frac = 0;
  let scale = 1;
  for (; i < end; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) break;
    int = int * 10 + (c - 48);
  }
  if (buf[i] === 46) {
    for (i += 1; i < end; i++) {
      const c = buf[i];
      if (c < 48 || c > 57) break;
      frac = frac * 10 + (c - 48);
      scale *= 10;
    }
  }
  return int + frac / scale;
}

/**
 * Shared state of all connections of one load-generator process. `onEvent(conn, t)`
 * gets the publish time of sampled events; counters are plain numbers.
 */
export class ClientGroup {
  constructor(options) {
    this.host = options.host ?? '127.0.0.1';
    this.protocol = options.protocol; // 'herald' | 'herald-protobuf' | 'sio'
    this.onEvent = options.onEvent ?? null;
    this.onLive = options.onLive ?? null;
    this.onConnected = options.onConnected ?? null;
    this.onClosed = options.onClosed ?? null;
    this.frames = 0;
    this.bytes = 0;
    this.errors = 0;
    this.closed = 0;
    this.extensions = 0;
    this.lastError = '';
  }
}

/**
 * The HTTP upgrade request of one client, built ahead of the storm (see clients.mjs) so
 * that opening a connection costs no string building.
 */
export function upgradeRequest(host, port, path, headers) {
  let request = `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`;
  for (const [name, value] of Object.entries(headers)) request += `${name}: ${value}\r\n`;
  return `${request}\r\n`;
}

/**
 * One client. States: 'upgrading' -> 'welcome' (waiting for connected / open) ->
 * 'subscribing' -> 'live'. `channels` are subscribed one after the other. `request` is
 * the upgrade request from `upgradeRequest`.
 */
export class Conn {
  constructor(group, index, port, request, channels, sample) {
    this.group = group;
    this.index = index;
    this.channels = channels;
    this.port = port;
    this.pendingSubs = 0;
    this.sample = sample;
    this.frames = 0;
    this.state = 'upgrading';
    this.http = '';
    this.carry = null;
    this.skip = 0;
    this.opcode = 0;
    this.rsv1 = false;
    this.collect = null;
    this.startedAt = 0;
    this.connectedAt = 0;
    this.closeCode = 0;
    this.startedAt = performance.now();
    const socket = net.connect({ host: group.host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: onSocketRead } });
    this.socket = socket;
    socket.__conn = this;
    socket.write(request);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  close() {
    if (this.socket.destroyed) return;
    if (this.state === 'upgrading') this.socket.destroy();
    else this.socket.end(CLOSE_1000);
  }

  destroy() {
    this.socket.destroy();
  }

  send(text) {
    this.socket.write(clientFrame(text));
  }

  onUpgradeData(chunk) {
    const before = this.http.length;
    this.http += chunk.toString('latin1');
    const end = this.http.indexOf('\r\n\r\n');
    if (end < 0) return;
    const status = this.http.slice(9, 12);
    if (status !== '101') {
      this.group.errors += 1;
      this.group.lastError = `HTTP ${status}: ${this.http.slice(end + 4, end + 200)}`;
      this.socket.destroy();
      return;
    }
    if (/\r\nsec-websocket-extensions:/i.test(this.http.slice(0, end))) this.group.extensions += 1;
    // latin1 is one byte per character: what follows the headers is a view of the chunk.
    const rest = end + 4 >= before ? chunk.subarray(end + 4 - before) : Buffer.from(this.http.slice(end + 4), 'latin1');
    this.http = '';
    this.state = 'welcome';
    if (rest.length > 0) this.onFrames(rest);
  }

  /** The frame scanner: no allocation unless a frame straddles chunks or is read. */
  onFrames(chunk) {
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const group = this.group;
    group.bytes += chunk.length;
    let off = 0;
    const len = buf.length;
    while (off < len) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - off);
        // Copies: the chunk lives in the shared read buffer (see READ_BUFFER).
        if (this.collect !== null) this.collect.push(Buffer.from(buf.subarray(off, off + n)));
        off += n;
        this.skip -= n;
        if (this.skip === 0 && this.collect !== null) {
          const payload = Buffer.concat(this.collect);
          this.collect = null;
          this.onFrame(this.opcode, payload, 0, payload.length);
        }
        continue;
      }
      if (len - off < 2) {
        this.carry = Buffer.from(buf.subarray(off));
        return;
      }
      const b1 = buf[off + 1] & 0x7f;
      let size = b1;
      let head = 2;
      if (b1 === 126) {
        if (len - off < 4) {
          this.carry = Buffer.from(buf.subarray(off));
          return;
        }
        size = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (b1 === 127) {
        if (len - off < 10) {
          this.carry = Buffer.from(buf.subarray(off));
          return;
        }
        size = Number(buf.readBigUInt64BE(off + 2));
        head = 10;
      }
      const opcode = buf[off] & 0x0f;
      off += head;
      // Events: text frames, or binary ones on v1.protobuf.
      if ((opcode === 0x1 || opcode === 0x2) && this.state === 'live') {
        group.frames += 1;
        this.frames += 1;
        // Engine.IO ping ("2"): answer "3" and do not count it.
        if (size === 1 && this.group.protocol === 'sio') {
          group.frames -= 1;
          this.frames -= 1;
          this.socket.write(SIO_PONG);
        } else if (this.sample && group.onEvent !== null) {
          if (len - off >= size) group.onEvent(this, opcode === 0x2 ? protobufT(buf, off, off + size) : readT(buf, off, off + size));
          else {
            this.opcode = opcode;
            this.collect = [];
          }
        }
        if (this.collect === null) {
          const n = Math.min(size, len - off);
          off += n;
          this.skip = size - n;
        } else {
          this.skip = size;
        }
        continue;
      }
      // Control frames and handshake replies: read the payload.
      this.opcode = opcode;
      this.rsv1 = (buf[off - head] & 0x40) !== 0;
      if (len - off >= size) {
        this.onFrame(opcode, buf, off, off + size);
        off += size;
      } else {
        this.collect = [];
        this.skip = size;
      }
    }
  }

  onFrame(opcode, buf, start, end) {
    if (opcode === 0x9) {
      // A ping with payload is answered with the same payload; ours are empty.
      this.socket.write(end > start ? clientFramePong(buf.subarray(start, end)) : PONG_EMPTY);
      return;
    }
    if (opcode === 0x8) {
      this.closeCode = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
      if (this.state !== 'live') {
        this.group.errors += 1;
        this.group.lastError = `closed ${this.closeCode} ${buf.toString('utf8', start + 2, end)}`;
      }
      // Ending twice (our close frame already went with end()) makes Node build an
      // ERR_STREAM_ALREADY_FINISHED error with its stack: costly at 10k closes.
      if (!this.socket.writableEnded) this.socket.end();
      return;
    }
    if (opcode === 0x2) {
      // v1.protobuf: a sampled event completed across chunks, or a reply.
      if (this.state === 'live') {
        if (this.group.onEvent !== null) this.group.onEvent(this, protobufT(buf, start, end));
        return;
      }
      const frame = decodeServerMessage(buf.subarray(start, end));
      return this.onHeraldText(frame === undefined ? '' : JSON.stringify(frame));
    }
    if (opcode !== 0x1) return;
    if (this.state === 'live') {
      // A text frame completed across chunks (sampled event or sio ping).
      if (this.group.protocol === 'sio' && end - start === 1) {
        this.group.frames -= 1;
        this.frames -= 1;
        this.socket.write(SIO_PONG);
        return;
      }
      if (this.group.onEvent !== null) this.group.onEvent(this, readT(buf, start, end));
      return;
    }
    // A compressed reply (permessage-deflate, offered with server_no_context_takeover so
    // every message inflates on its own).
    const text = this.rsv1 ? inflateRawSync(Buffer.concat([buf.subarray(start, end), DEFLATE_TAIL])).toString('utf8') : buf.toString('utf8', start, end);
    if (this.group.protocol === 'sio') this.onSioText(text);
    else this.onHeraldText(text);
  }

  onHeraldText(text) {
    if (this.state === 'welcome') {
      if (!text.startsWith('{"type":"connected"')) return this.fail(text);
      return this.welcomed();
    }
    if (this.state === 'subscribing') {
      if (!text.startsWith('{"type":"subscribed"')) return this.fail(text);
      this.subscribeNext();
    }
  }

  onSioText(text) {
    if (text === '2') {
      this.socket.write(SIO_PONG);
      return;
    }
    if (this.state === 'welcome') {
      if (text.startsWith('0{')) {
        this.socket.write(SIO_CONNECT);
        return;
      }
      if (!text.startsWith('40')) return this.fail(text);
      return this.welcomed();
    }
    if (this.state === 'subscribing') {
      if (!text.startsWith('42["subscribed"')) return this.fail(text);
      this.subscribeNext();
    }
  }

  /** The server's welcome (Herald's `connected`, Socket.IO's connect ack) arrived. */
  welcomed() {
    this.connectedAt = performance.now();
    this.group.onConnected?.(this);
    this.subscribeNext();
  }

  subscribeNext() {
    const channel = this.channels[this.pendingSubs];
    if (channel === undefined) {
      this.state = 'live';
      this.group.onLive?.(this);
      return;
    }
    this.pendingSubs += 1;
    this.state = 'subscribing';
    if (this.group.protocol === 'sio') this.send(`42["subscribe",${JSON.stringify(channel)}]`);
    else if (this.group.protocol === 'herald-protobuf') this.socket.write(clientFrame(Buffer.from(encodeClientCommand({ type: 'subscribe', id: `s${this.pendingSubs}`, data: { channel } })), 0x2));
    else this.send(`{"type":"subscribe","id":"s${this.pendingSubs}","data":{"channel":${JSON.stringify(channel)}}}`);
  }

  fail(text) {
    this.group.errors += 1;
    this.group.lastError = text.slice(0, 200);
    this.socket.destroy();
  }
}

function clientFramePong(payload) {
  const frame = clientFrame('', 0xa);
  return Buffer.concat([frame.subarray(0, 1), Buffer.from([0x80 | payload.length]), frame.subarray(2, 6), payload]);
}

function onSocketRead(nread, buffer) {
  const conn = this.__conn;
  const chunk = buffer.subarray(0, nread);
  if (conn.state === 'upgrading') conn.onUpgradeData(chunk);
  else conn.onFrames(chunk);
}

function onSocketError(error) {
  const conn = this.__conn;
  conn.group.lastError = error.message;
}

function onSocketClose() {
  const conn = this.__conn;
  conn.group.closed += 1;
  conn.group.onClosed?.(conn);
}
