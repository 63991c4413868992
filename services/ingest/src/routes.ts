/**
 * Routing: which channels an event goes to. A route matches event types (exact, or a
 * prefix pattern ending in `*`) and lists channel templates such as
 * `merchant:{data.merchant_id}`. A template whose fields are absent is skipped (so
 * `order:{data.order_id}` applies only when there is an order id); a field whose value
 * cannot be a channel segment is a validation error, never a surprising channel.
 */
import { readFileSync } from 'node:fs';
import { CHANNEL_SEGMENT_PATTERN, isSystemChannel, isValidChannel, type FieldError } from '@herald/protocol';
import { toFieldErrors } from '@herald/protocol/registry';
import { validateRoutesFile } from './schemas.js';

export interface RouteDefinition {
  /** Event type, or a pattern ending in `*`. */
  match: string;
  /** Channel templates: literal text with `{field.path}` placeholders. */
  channels: string[];
}

export const DEFAULT_ROUTES: readonly RouteDefinition[] = [
  {
    match: 'payment.*',
    channels: ['merchant:{data.merchant_id}', 'payment:{data.payment_id}', 'order:{data.order_id}'],
  },
];

type Part = { literal: string } | { path: string[]; field: string };

interface CompiledRoute {
  readonly exact: string | undefined;
  readonly prefix: string | undefined;
  readonly templates: Part[][];
}

export class RoutesError extends Error {
  override readonly name = 'RoutesError';
}

export type RouteResult = { ok: true; channels: string[] } | { ok: false; errors: FieldError[] };

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(definitions: readonly RouteDefinition[]) {
    this.routes = definitions.map(compileRoute);
  }

  static fromFile(path: string): Router {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new RoutesError(`cannot read routes file ${path}: ${(error as Error).message}`);
    }
    if (!validateRoutesFile(parsed)) {
      const errors = validateRoutesFile.errors ?? [];
      // The file itself, or its `routes`, is not what a routes file holds.
      if (errors.some((error) => error.instancePath === '' || (error.instancePath === '/routes' && error.keyword === 'type'))) {
        throw new RoutesError(`routes file ${path} must hold {"routes": [...]}`);
      }
      throw new RoutesError(toFieldErrors(errors).map((error) => `${error.field} ${error.message}`).join('; '));
    }
    return new Router((parsed as { routes: RouteDefinition[] }).routes.map(({ match, channels }) => ({ match, channels })));
  }

  /** The channels of an event, in route order, without repeats. */
  route(type: string, event: Record<string, unknown>, fieldPrefix = ''): RouteResult {
    const channels: string[] = [];
    const errors: FieldError[] = [];
    for (const route of this.routes) {
      if (route.exact !== undefined ? route.exact !== type : !type.startsWith(route.prefix!)) continue;
      for (const template of route.templates) {
        const channel = render(template, event, fieldPrefix, errors);
        if (channel !== undefined && !channels.includes(channel)) channels.push(channel);
      }
    }
    if (errors.length > 0) return { ok: false, errors };
    if (channels.length === 0) {
      return { ok: false, errors: [{ field: fieldPrefix === '' ? 'type' : `${fieldPrefix}.type`, message: 'no route produces a channel for this event' }] };
    }
    return { ok: true, channels };
  }
}

function compileRoute(definition: RouteDefinition): CompiledRoute {
  const wildcard = definition.match.endsWith('*');
  return {
    exact: wildcard ? undefined : definition.match,
    prefix: wildcard ? definition.match.slice(0, -1) : undefined,
    templates: definition.channels.map((template) => compileTemplate(template, definition.match)),
  };
}

function compileTemplate(template: string, match: string): Part[] {
  const parts: Part[] = [];
  const pattern = /\{([A-Za-z0-9_.]+)\}/g;
  let last = 0;
  for (let found = pattern.exec(template); found; found = pattern.exec(template)) {
    if (found.index > last) parts.push({ literal: template.slice(last, found.index) });
    parts.push({ field: found[1]!, path: found[1]!.split('.') });
    last = found.index + found[0].length;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  // A sample rendering must be a valid channel, or the template itself is wrong.
  const sample = parts.map((part) => ('literal' in part ? part.literal : 'x')).join('');
  if (!isValidChannel(sample) || /[{}]/.test(sample)) {
    throw new RoutesError(`route "${match}": template "${template}" does not produce a valid channel name`);
  }
  // Herald's own channels (`_herald:*`) carry what only Herald publishes.
  if (isSystemChannel(sample)) throw new RoutesError(`route "${match}": template "${template}" names a reserved channel (_herald:...)`);
  return parts;
}

function render(parts: Part[], event: Record<string, unknown>, prefix: string, errors: FieldError[]): string | undefined {
  let channel = '';
  for (const part of parts) {
    if ('literal' in part) {
      channel += part.literal;
      continue;
    }
    let value: unknown = event;
    for (const key of part.path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined || value === null) return undefined;
    const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
    if (typeof text !== 'string' || !CHANNEL_SEGMENT_PATTERN.test(text)) {
      errors.push({ field: prefix === '' ? part.field : `${prefix}.${part.field}`, message: 'must be letters, digits, "_", "-" or "." to be routed to a channel' });
      return undefined;
    }
    channel += text;
  }
  if (!isValidChannel(channel)) {
    const routed: string = channel;
    errors.push({ field: prefix === '' ? 'data' : `${prefix}.data`, message: `routes to "${routed.slice(0, 40)}...", longer than a channel name may be` });
    return undefined;
  }
  if (isSystemChannel(channel)) {
    errors.push({ field: prefix === '' ? 'data' : `${prefix}.data`, message: 'routes to a reserved channel (_herald:...)' });
    return undefined;
  }
  return channel;
}
