/**
 * A test CA and server certificates it signs, made at test time in a temp dir (the
 * `selfsigned` package: no openssl binary needed), and the TLS clients the tests use:
 * a wss:// client and an HTTPS request that trust that CA only.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import WebSocket from 'ws';

export interface Issued {
  cert: string;
  key: string;
  /** Hex serial, as X509Certificate.serialNumber prints it. */
  serial: string;
  fingerprint256: string;
}

export interface TestCa {
  dir: string;
  cert: string;
  key: string;
  /**
   * A server certificate for localhost and 127.0.0.1, signed by this CA; with
   * `clientAuth` also good as a client certificate (Redis Cluster nodes present their
   * certificate to each other on the cluster bus).
   */
  issue(commonName?: string, options?: { clientAuth?: boolean }): Promise<Issued>;
}

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `herald-${label}-`));
}

export async function createCa(name = 'Herald Test CA'): Promise<TestCa> {
  const dir = tempDir('test-ca');
  const ca = await selfsigned.generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  writeFileSync(join(dir, 'ca.pem'), ca.cert);
  return {
    dir,
    cert: ca.cert,
    key: ca.private,
    async issue(commonName = 'localhost', options = {}) {
      const leaf = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
        keyType: 'ec',
        algorithm: 'sha256',
        ca: { cert: ca.cert, key: ca.private },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true, ...(options.clientAuth ? { clientAuth: true } : {}) },
          { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
        ],
      });
      const x509 = new X509Certificate(leaf.cert);
      return { cert: leaf.cert, key: leaf.private, serial: x509.serialNumber, fingerprint256: x509.fingerprint256 };
    },
  };
}

export type Frame = Record<string, any>;

/** A wss:// client that trusts `ca`; frames are queued until read with next(). */
export class TlsClient {
  private readonly frames: Frame[] = [];
  private waiter: ((frame: Frame) => void) | undefined;
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter(frame);
      } else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
  }

  static connect(url: string, token: string, ca: string): Promise<TlsClient> {
    const socket = new WebSocket(url, ['v1.json'], { ca, headers: { authorization: `Bearer ${token}` } });
    const client = new TlsClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  /** The certificate the server presented in this connection's handshake. */
  peerSerial(): string {
    const tlsSocket = (this.socket as unknown as { _socket: TLSSocket })._socket;
    return tlsSocket.getPeerX509Certificate()!.serialNumber;
  }

  next(timeoutMs = 5_000): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no frame within ${timeoutMs}ms`));
      }, timeoutMs);
      this.waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
    });
  }

  /** The next frame of `type`, skipping others (heartbeats, replies). */
  async nextOf(type: string, timeoutMs = 5_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (frame.type === type) return frame;
    }
  }

  async subscribe(channel: string): Promise<Frame> {
    this.socket.send(JSON.stringify({ type: 'subscribe', id: `s-${channel}`, data: { channel } }));
    return this.nextOf('subscribed');
  }

  close(): Promise<number> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
    else if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    return this.closed;
  }
}

export interface HttpsAnswer {
  status: number;
  body: any;
  /** Serial of the certificate the server presented. */
  serial: string;
}

/** An HTTPS request trusting `ca` only, on a fresh connection (no agent reuse). */
export function httpsRequest(url: string, ca: string, options: { method?: string; token?: string; body?: unknown } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca,
        agent: false,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? '';
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, serial }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
