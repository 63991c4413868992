/**
 * Minting tokens for development and operations (`herald start`, `herald token`).
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface TokenClaims {
  sub: string;
  channels?: string[];
  scope?: string;
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
}

export function mintToken(secret: string, claims: TokenClaims): string {
  const payload: Record<string, unknown> = { sub: claims.sub };
  if (claims.channels) payload.channels = claims.channels;
  if (claims.scope) payload.scope = claims.scope;
  return jwt.sign(payload, secret, {
    algorithm: 'HS256',
    expiresIn: claims.ttlSeconds,
    // Spread, not `issuer: undefined`: jsonwebtoken's sign refuses a present but
    // undefined issuer or audience ("must be a string").
    ...(claims.issuer !== undefined ? { issuer: claims.issuer } : {}),
    ...(claims.audience !== undefined ? { audience: claims.audience } : {}),
  });
}
