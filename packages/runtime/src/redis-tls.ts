/**
 * REDIS_TLS_CA_FILE (PROTOCOL.md section 12): the private CA Herald trusts for Redis
 * server certificates. Read and checked at start, so that a missing, unreadable or
 * non-PEM file stops the process with one line naming the variable (exit 78) instead
 * of every Redis connection failing its handshake later.
 */
import { X509Certificate } from 'node:crypto';
import { ConfigError } from './config.js';
import { readPem } from './tls.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The file's bytes, once every certificate in it parses; throws a ConfigError otherwise. */
export function readRedisCaFile(path: string): Buffer {
  const variable = 'REDIS_TLS_CA_FILE';
  const bytes = readPem(variable, path);
  const blocks = bytes.toString('utf8').match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new ConfigError(variable, `${variable}: "${path}" is not a PEM certificate file (no "-----BEGIN CERTIFICATE-----" block)`);
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
      throw new ConfigError(variable, `${variable}: certificate ${index + 1} of "${path}" is not a valid PEM certificate: ${reason}`);
    }
  });
  return bytes;
}
