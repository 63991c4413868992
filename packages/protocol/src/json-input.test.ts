import { describe, expect, it } from 'vitest';
import { decodeCommand } from './commands.js';
import { numberProblem, parseJsonInput } from './json-input.js';

const check = (text: string, maxDepth = 32, depthBase = 0) => parseJsonInput(text, { maxDepth, depthBase }).violations;

describe('parseJsonInput', () => {
  it('accepts ordinary JSON with no findings and returns JSON.parse\'s value', () => {
    const text = '{"a":[1,2.5,-3,0,1e2,"x\\"y",true,null],"b":{"c":"\\u00e9"}}';
    expect(parseJsonInput(text, { maxDepth: 32 })).toEqual({ value: JSON.parse(text), violations: [] });
  });

  it('reports nesting past the limit once, at the first container too deep, and never recurses', () => {
    const deep = (n: number) => `{"data":${'{"x":'.repeat(n)}1${'}'.repeat(n)}}`;
    expect(check(deep(32), 32, 1)).toEqual([]);
    const [violation, ...rest] = check(deep(33), 32, 1);
    expect(rest).toEqual([]);
    expect(violation).toEqual({ path: `data${'.x'.repeat(32)}`, reason: 'depth', message: 'nests deeper than 32 levels' });
    // 100,000 levels: JSON.parse copes, and so does the pass.
    expect(check(`[${'['.repeat(100_000)}${']'.repeat(100_000)}]`, 32)).toHaveLength(1);
  });

  it('names numbers that would not arrive as sent, with their paths', () => {
    const found = check('{"a":1e400,"b":[9007199254740993],"c":{"d":1e-400},"e":-0,"f":0.1000000000000000055511,"g":1e30}');
    expect(found.map((v) => [v.path, v.reason])).toEqual([
      ['a', 'number'],
      ['b[0]', 'number'],
      ['c.d', 'number'],
      ['e', 'number'],
      ['f', 'number'],
      ['g', 'number'],
    ]);
  });

  it('accepts numbers that survive, however they are spelled', () => {
    for (const token of ['0', '-1', '10000', '1.5', '1.50', '1E2', '123e-2', '-12.5e-3', '0.1', '5e-324', '9007199254740991', '-9007199254740991']) {
      expect(numberProblem(token), token).toBeUndefined();
    }
    for (const token of ['9007199254740992', '1e21', '2.5e-324', '1e309', '-0.0', '1.7976931348623157e308']) expect(numberProblem(token), token).toBeDefined();
  });

  it('reports a key given twice in one object, escaped or not', () => {
    expect(check('{"a":1,"b":{"k":1,"\\u006b":2},"a":3}').map((v) => [v.path, v.reason])).toEqual([
      ['b.k', 'duplicate-key'],
      ['a', 'duplicate-key'],
    ]);
    expect(check('[{"a":1},{"a":2}]')).toEqual([]);
  });

  it('reports strings and keys that are not Unicode text (lone surrogate escapes), and accepts escaped pairs', () => {
    expect(check('{"a":"\\ud800","\\udc00x":1,"b":["ok","\\ud83d\\udcb3","\\udfff"]}').map((v) => [v.path, v.reason])).toEqual([
      ['a', 'text'],
      ['\udc00x', 'text'],
      ['b[2]', 'text'],
    ]);
  });

  it('throws on text that is not JSON, as JSON.parse does', () => {
    expect(() => parseJsonInput('{"a":', { maxDepth: 32 })).toThrow(SyntaxError);
  });
});

describe('decodeCommand input limits', () => {
  it('refuses a frame nested past the limit as invalid-message, keeping replyTo', () => {
    const frame = `{"type":"subscribe","id":"c1","data":{"channel":"a","x":${'['.repeat(40)}${']'.repeat(40)}}}`;
    const decoded = decodeCommand(frame, 32);
    expect(decoded).toMatchObject({ ok: false, problem: { type: '/problems/invalid-message' }, replyTo: 'c1' });
    expect(decodeCommand(frame, 64).ok).toBe(true);
  });

  it('refuses a frame naming a key twice', () => {
    expect(decodeCommand('{"type":"ping","type":"subscribe"}')).toMatchObject({ ok: false, problem: { type: '/problems/invalid-message' } });
  });
});
