/**
 * The edge's files import each other in one direction only: no cycle, type-only imports
 * included. A session reaches its host interface, the hub reaches recipients, and
 * neither reaches the server; a cycle here is how that narrowing erodes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('.', import.meta.url));
const IMPORT = /^\s*(?:import|export)\b[^'"]*?from\s+'\.\/([^']+)\.js'/gm;

function graph(): Map<string, string[]> {
  const files = readdirSync(SRC).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const name = file.slice(0, -'.ts'.length);
    const text = readFileSync(`${SRC}/${file}`, 'utf8');
    edges.set(name, [...text.matchAll(IMPORT)].map((match) => match[1]!));
  }
  return edges;
}

/** Every cycle found by a depth-first walk, each as the path that closes it. */
function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'visiting') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe('edge imports', () => {
  it('finds the imports it looks for', () => {
    const edges = graph();
    expect(edges.get('edge-server')).toEqual(expect.arrayContaining(['session', 'hub', 'outbox', 'commands']));
    expect(edges.get('session')).toEqual(expect.arrayContaining(['outbox', 'recipient']));
    expect(cycles(new Map([['a', ['b']], ['b', ['a']]]))).toEqual([['a', 'b', 'a']]);
  });

  it('has no cycle', () => {
    expect(cycles(graph()).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('keeps the server out of reach of sessions, and sessions and commands out of reach of the hub', () => {
    const edges = graph();
    const reachable = (from: string): Set<string> => {
      const seen = new Set<string>();
      const walk = (node: string): void => {
        for (const next of edges.get(node) ?? []) {
          if (seen.has(next)) continue;
          seen.add(next);
          walk(next);
        }
      };
      walk(from);
      return seen;
    };
    expect([...reachable('session')].filter((file) => ['edge-server', 'hub', 'commands'].includes(file))).toEqual([]);
    expect([...reachable('hub')].filter((file) => ['edge-server', 'session', 'commands'].includes(file))).toEqual([]);
    expect([...reachable('outbox')].filter((file) => file === 'session')).toEqual([]);
  });
});
