/**
 * PROTOCOL.md section 12: `herald start` with TLS=self-signed makes a certificate for
 * localhost and 127.0.0.1, prints its path and a wss:// example; a client that trusts
 * that certificate connects with the banner's URL and token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startHerald } from '../support/herald.js';
import { clientToken } from '../support/tokens.js';
import { TlsClient, httpsRequest } from './pki.js';

const CERT_LINE = /TLS=self-signed: certificate for localhost and 127\.0\.0\.1 in (\S+)$/;

describe('herald start with TLS=self-signed', () => {
  it('prints the certificate and a wss:// example that a client trusting it can use', async () => {
    const herald = await startHerald({ env: { TLS: 'self-signed', JWT_SECRET: undefined } });
    try {
      const certFile = CERT_LINE.exec(await herald.waitForLine((line) => CERT_LINE.test(line)))![1]!;
      expect(existsSync(certFile)).toBe(true);
      const cert = readFileSync(certFile, 'utf8');
      const x509 = new X509Certificate(cert);
      expect(x509.checkHost('localhost')).toBe('localhost');
      expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');

      const endpoint = (await herald.waitForLine((line) => line.includes('WebSocket endpoint: '))).split('WebSocket endpoint: ')[1]!.trim();
      expect(endpoint).toBe(`wss://127.0.0.1:${herald.port}/v1/ws`);
      const example = await herald.waitForLine((line) => line.includes('npx wscat'));
      expect(example).toContain(`--ca "${certFile}"`);
      const token = /access_token=([^"]+)"/.exec(example)![1]!;

      const client = await TlsClient.connect(endpoint, token, cert);
      expect((await client.next()).type).toBe('connected');
      expect((await client.subscribe('merchant:m_42')).type).toBe('subscribed');
      await client.close();
      // localhost is in the certificate too.
      expect((await httpsRequest(`https://localhost:${herald.port}/healthz`, cert)).status).toBe(200);
    } finally {
      await herald.stop();
    }
  });

  it('prints the certificate\'s path without the token banner when JWT_SECRET is set, and removes it on shutdown', async () => {
    const herald = await startHerald({ env: { TLS: 'self-signed' } });
    const certFile = CERT_LINE.exec(await herald.waitForLine((line) => CERT_LINE.test(line)))![1]!;
    const cert = readFileSync(certFile, 'utf8');
    expect(await herald.waitForLine((line) => line.includes(`wss://127.0.0.1:${herald.port}/v1/ws`))).toBeTruthy();
    expect(herald.stdout.join('\n')).not.toContain('Client token');
    const client = await TlsClient.connect(`wss://127.0.0.1:${herald.port}/v1/ws`, clientToken({ channels: ['merchant:m_42'] }), cert);
    expect((await client.next()).type).toBe('connected');
    await client.close();
    expect((await herald.stop()).code).toBe(0);
    expect(existsSync(certFile)).toBe(false);
  });
});
