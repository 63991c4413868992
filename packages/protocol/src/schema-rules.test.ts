import { describe, expect, it } from 'vitest';
import { fieldPath, rulesAjv, toFieldErrors } from './schema-rules.js';

const ajv = rulesAjv();
const validate = ajv.compile({
  type: 'object',
  message: 'must be a JSON object',
  required: ['name', 'items'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 3, pattern: '^[a-z]+$', message: 'must be 1 to 3 lower-case letters' },
    items: { type: 'array', items: { type: 'object', properties: { 'a/b~c': { type: 'integer' } } } },
    plain: { type: 'integer', minimum: 0 },
  },
});

function errors(value: unknown, prefix?: string) {
  validate(value);
  return toFieldErrors(validate.errors, prefix);
}

describe('toFieldErrors', () => {
  it('names missing and unknown properties as fields of their own', () => {
    expect(errors({ extra: 1 })).toEqual([
      { field: 'name', message: 'is required' },
      { field: 'items', message: 'is required' },
      { field: 'extra', message: 'is not allowed' },
    ]);
  });

  it('prefixes paths, writes array indexes in brackets and unescapes JSON pointers', () => {
    expect(errors({ name: 'ab', items: [{}, { 'a/b~c': 'x' }] }, 'events[3].data')).toEqual([
      { field: 'events[3].data.items[1].a/b~c', message: 'must be integer' },
    ]);
  });

  it("uses the failing schema's own message, once, and Ajv's when it has none", () => {
    // Too long and not lower-case: two keywords fail, one message.
    expect(errors({ name: 'ABCD', items: [], plain: -1 })).toEqual([
      { field: 'name', message: 'must be 1 to 3 lower-case letters' },
      { field: 'plain', message: 'must be >= 0' },
    ]);
  });

  it('names the whole value by its prefix, or (body) without one', () => {
    expect(errors([])).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
    expect(errors(null, 'events[2]')).toEqual([{ field: 'events[2]', message: 'must be a JSON object' }]);
  });

  it('builds paths like the rest of the project', () => {
    expect(fieldPath('', ['events', '3', 'data', 'amount'])).toBe('events[3].data.amount');
    expect(fieldPath('data', [])).toBe('data');
    expect(fieldPath('', [])).toBe('(body)');
  });

  it('is empty without errors', () => {
    expect(toFieldErrors(null)).toEqual([]);
    expect(errors({ name: 'ab', items: [] })).toEqual([]);
  });
});
