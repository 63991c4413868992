/** ROUTES_FILE: the file's rules (ROUTES_FILE_SCHEMA), then each template's channel. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Router, RoutesError } from './routes.js';

const root = mkdtempSync(join(tmpdir(), 'herald-routes-'));
let count = 0;

function file(content: unknown): string {
  const path = join(root, `routes-${++count}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function refusal(content: unknown): string {
  const path = file(content);
  try {
    Router.fromFile(path);
  } catch (error) {
    expect(error).toBeInstanceOf(RoutesError);
    return (error as Error).message.replace(path, '<file>');
  }
  throw new Error('the routes loaded');
}

describe('Router.fromFile', () => {
  it('routes by the file', () => {
    const router = Router.fromFile(file({ routes: [{ match: 'invoice.*', channels: ['invoice:{data.invoice_id}'], note: 'kept out' }] }));
    expect(router.route('invoice.paid', { data: { invoice_id: 'inv_1' } })).toEqual({ ok: true, channels: ['invoice:inv_1'] });
  });

  it('refuses a file that is not JSON or does not hold {"routes": [...]}', () => {
    expect(refusal('{"routes": [')).toMatch(/^cannot read routes file <file>: /);
    for (const content of [null, [], { routes: { match: 'payment.*' } }, { route: [] }, 'null']) {
      expect(refusal(content)).toBe('routes file <file> must hold {"routes": [...]}');
    }
  });

  it('names each route field that is wrong', () => {
    expect(refusal({ routes: [{ match: '', channels: ['a:{data.x}'] }, { match: 'b', channels: [] }, { match: 'c', channels: ['c:1', 7] }] })).toBe(
      'routes[0].match must be a non-empty string; routes[1].channels must be a non-empty array of strings; routes[2].channels[1] must be a string',
    );
    expect(refusal({ routes: [null, { channels: ['x'] }] })).toBe('routes[0] must be an object with match and channels; routes[1].match is required');
  });

  it('refuses a template that cannot make a valid channel', () => {
    expect(refusal({ routes: [{ match: 'payment.*', channels: ['merchant {data.merchant_id}'] }] })).toBe(
      'route "payment.*": template "merchant {data.merchant_id}" does not produce a valid channel name',
    );
  });
});

describe("Herald's own channels (_herald:*)", () => {
  it('a template naming one is refused at load; a field that would render one is a validation error', () => {
    expect(refusal({ routes: [{ match: 'payment.*', channels: ['_herald:stats'] }] })).toBe('route "payment.*": template "_herald:stats" names a reserved channel (_herald:...)');
    const router = new Router([{ match: 'payment.*', channels: ['{data.tenant}:stats'] }]);
    expect(router.route('payment.created', { data: { tenant: '_herald' } })).toEqual({ ok: false, errors: [{ field: 'data', message: 'routes to a reserved channel (_herald:...)' }] });
    expect(router.route('payment.created', { data: { tenant: 'acme' } })).toEqual({ ok: true, channels: ['acme:stats'] });
  });
});
