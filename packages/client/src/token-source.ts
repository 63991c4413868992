/**
 * Asking the application for a token (`getToken`), for a connection and for a refresh
 * alike: what it gives must be a non-empty string; anything else, or a throw, is one
 * `token` error naming the cause.
 */
import { HeraldError } from './errors.js';

export async function fetchToken(getToken: () => string | Promise<string>): Promise<string> {
  let token: unknown;
  try {
    token = await getToken();
  } catch (cause) {
    throw new HeraldError('token', `getToken() failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (typeof token !== 'string' || token === '') throw new HeraldError('token', 'getToken() failed: getToken() must return a non-empty string');
  return token;
}
