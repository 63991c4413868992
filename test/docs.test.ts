/**
 * The docs that are generated from code are up to date (config tables, Grafana
 * dashboard), and those written from it agree with it (the herald.stats fields).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_STATS_SCHEMA } from '@herald/edge';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('generated documentation', () => {
  it('has configuration tables matching the config schema', () => {
    const result = spawnSync(process.execPath, ['scripts/config-docs.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('has a Grafana dashboard matching its generator', () => {
    const before = readFileSync(`${root}/infra/grafana/herald-dashboard.json`, 'utf8');
    execFileSync(process.execPath, ['infra/grafana/generate.mjs'], { cwd: root });
    expect(readFileSync(`${root}/infra/grafana/herald-dashboard.json`, 'utf8')).toBe(before);
  });

  it('lists the herald.stats fields of NODE_STATS_SCHEMA in docs/protocol.md, with their types, and a valid example', () => {
    const text = readFileSync(`${root}/docs/protocol.md`, 'utf8');
    const section = text.slice(text.indexOf('### Herald\'s own events: `herald.stats`'));
    const table = section.slice(section.indexOf('| field | type | meaning |'), section.indexOf('\n\n', section.indexOf('| field |')));
    const documented = new Map(
      table
        .split('\n')
        .slice(2)
        .map((row) => row.split(' | ').map((cell) => cell.replace(/^\| ?|`/g, '')))
        .map(([field, type]) => [field!, type!]),
    );
    const expected = fieldTypes(NODE_STATS_SCHEMA);
    expect([...documented.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [field, type] of expected) expect(documented.get(field), field).toMatch(type);
    const example = section.slice(section.indexOf('```json\n') + 8, section.indexOf('\n```', section.indexOf('```json')));
    const event = JSON.parse(example) as { type: string; channel: string; data: unknown };
    expect(event).toMatchObject({ type: 'herald.stats', channel: '_herald:stats' });
    const check = new Ajv({ strict: false, allErrors: true }).compile(NODE_STATS_SCHEMA);
    expect(check(event.data), JSON.stringify(check.errors)).toBe(true);
  });
});

interface SchemaNode {
  type: string | readonly string[];
  minimum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, SchemaNode>;
}

/** Each property's dotted path and what its type cell must say. */
function fieldTypes(schema: SchemaNode, prefix = ''): Map<string, RegExp> {
  const result = new Map<string, RegExp>();
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    const types: readonly string[] = typeof property.type === 'string' ? [property.type] : property.type;
    const minimum = property.minimum === undefined ? '' : ` >= ${property.minimum}`;
    let type: string;
    if (types.includes('null')) type = `^${types.find((t) => t !== 'null')}${minimum}, or null$`;
    else if (types[0] === 'string') type = `^string \\(${property.minLength} to ${property.maxLength} characters\\)$`;
    else if (types[0] === 'array') type = '^array of ';
    else type = `^${types[0]}${minimum}$`;
    result.set(path, new RegExp(type));
    if (property.properties) for (const [inner, innerType] of fieldTypes(property, `${path}.`)) result.set(inner, innerType);
  }
  return result;
}
