/**
 * PROTOCOL.md sections 7 and 8: a bad EVENT_SCHEMAS_DIR (directory or schema file) or
 * ROUTES_FILE stops start-up with one clear line naming the variable.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SECRET, runHerald } from '../support/herald.js';

const root = mkdtempSync(join(tmpdir(), 'herald-ingest-startup-'));
let count = 0;

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory under `root` holding `files` (name -> content; objects are JSON). */
function directory(files: Record<string, unknown>): string {
  const dir = join(root, `d${++count}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

function file(content: unknown): string {
  const path = join(root, `f${++count}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const schema = { type: 'object', required: ['invoice_id'], properties: { invoice_id: { type: 'string' } } };

describe('sections 7 and 8: bad configuration stops start-up with one line naming the variable', () => {
  async function expectStartupFailure(env: Record<string, string>, variable: string): Promise<void> {
    // Generous: a process that exits at once still needs to load; CI machines can be busy.
    const result = await runHerald(['start'], { JWT_SECRET: TEST_SECRET, ...env }, 30_000);
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stdout).not.toContain('herald listening');
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(variable);
  }

  it.each([
    ['a directory that does not exist', () => join(root, 'missing')],
    ['a schema file that is not JSON', () => directory({ 'payment.refunded.json': '{"type": "object",' })],
    ['a schema that does not compile', () => directory({ 'payment.refunded.json': { type: 'nonsense' } })],
    ['a file name that is not an event type', () => directory({ 'bad type!.json': schema })],
  ])('EVENT_SCHEMAS_DIR: %s', async (_name, make) => {
    await expectStartupFailure({ EVENT_SCHEMAS_DIR: make() }, 'EVENT_SCHEMAS_DIR');
  });

  it.each([
    ['a file that does not exist', () => join(root, 'missing-routes.json')],
    ['a file that is not JSON', () => file('{"routes": [')],
    ['a file without a routes array', () => file({ routes: { match: 'payment.*' } })],
    ['a template that cannot make a valid channel', () => file({ routes: [{ match: 'payment.*', channels: ['merchant {data.merchant_id}'] }] })],
  ])('ROUTES_FILE: %s', async (_name, make) => {
    await expectStartupFailure({ ROUTES_FILE: make() }, 'ROUTES_FILE');
  });
});
