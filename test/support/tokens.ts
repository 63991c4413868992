/** Tokens for tests, signed like a real issuer would. */
import jwt, { type SignOptions } from 'jsonwebtoken';
import { TEST_SECRET } from './herald.js';

export interface ClientClaims {
  sub?: string;
  channels?: string[];
  [claim: string]: unknown;
}

export function clientToken(claims: ClientClaims = {}, options: SignOptions = {}, secret = TEST_SECRET): string {
  return jwt.sign({ sub: 'user-1', ...claims }, secret, { algorithm: 'HS256', expiresIn: 3600, ...options });
}

export function publisherToken(secret = TEST_SECRET): string {
  return jwt.sign({ sub: 'producer', scope: 'events:publish' }, secret, { algorithm: 'HS256', expiresIn: 3600 });
}
