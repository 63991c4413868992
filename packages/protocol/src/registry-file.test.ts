/**
 * The registry file (PROTOCOL.md section 10): YAML documents of kind
 * WebSocketMessageType. Each error is one line naming the file and line, the document
 * (counted from 1, with its metadata.name) and the type.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageTypeRegistry, RegistryError } from './registry.js';

const root = mkdtempSync(join(tmpdir(), 'herald-message-types-'));
let count = 0;

function file(text: string): string {
  const path = join(root, `types-${++count}.yaml`);
  writeFileSync(path, text);
  return path;
}

const REFUNDS = `apiVersion: api.example.com/v1
kind: WebSocketMessageType
metadata:
  name: refund-types
spec:
  types:
    - name: refund.created
      description: Refund created event
      schema: {type: object, required: [refund_id, merchant_id], properties: {refund_id: {type: string}, merchant_id: {type: string}}}
`;

const OVERRIDES = `apiVersion: api.example.com/v1
kind: WebSocketMessageType
metadata:
  name: payment-overrides
  labels: {team: payments}
spec:
  types:
    - name: payment.updated
      description: A payment changed; the reason is required
      schema:
        type: object
        required: [payment_id, merchant_id, status, reason]
        properties:
          reason: {type: string, minLength: 1}
`;

function loadError(text: string): string {
  const path = file(text);
  try {
    MessageTypeRegistry.withBuiltins().loadFile(path);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message.replace(path, '<file>');
  }
  throw new Error('the file loaded');
}

describe('MessageTypeRegistry.loadFile', () => {
  it('registers every type of every document; a type listed replaces the built-in one', () => {
    const registry = MessageTypeRegistry.withBuiltins();
    expect(registry.loadFile(file(`${REFUNDS}---\n${OVERRIDES}`))).toEqual({ types: ['refund.created', 'payment.updated'], replacedBuiltins: ['payment.updated'] });
    expect(registry.types()).toEqual(['payment.created', 'payment.updated', 'refund.created']);
    expect(registry.validate('refund.created', { refund_id: 'r_1' })).toEqual([{ field: 'data.merchant_id', message: 'is required' }]);
    expect(registry.validate('payment.updated', { payment_id: 'p', merchant_id: 'm', status: 'paid' })).toEqual([{ field: 'data.reason', message: 'is required' }]);
    // The built-in payment.created is untouched.
    expect(registry.validate('payment.created', {}).length).toBe(6);
    expect(registry.descriptionOf('refund.created')).toBe('Refund created event');
  });

  it('skips empty documents but counts them', () => {
    const text = `---\n${REFUNDS}---\n# nothing here\n---\n${OVERRIDES.replace('kind: WebSocketMessageType', 'kind: Other')}`;
    // A leading `---` opens document 1; the comment-only document is number 2.
    expect(loadError(text)).toBe('<file>:15: document 3 "payment-overrides": kind must be "WebSocketMessageType" (got "Other")');
  });

  it('refuses a file that is not YAML, with the line and column', () => {
    expect(loadError(`${REFUNDS}---\napiVersion: api.example.com/v1\nkind: [WebSocketMessageType\n`)).toBe(
      '<file>:13:1: document 2: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
    expect(loadError('kind: WebSocketMessageType\nkind: WebSocketMessageType\n')).toBe('<file>:2:1: document 1: not valid YAML: Map keys must be unique');
  });

  it('refuses a wrong kind or apiVersion', () => {
    expect(loadError(REFUNDS.replace('kind: WebSocketMessageType', 'kind: MessageType'))).toBe(
      '<file>:2: document 1 "refund-types": kind must be "WebSocketMessageType" (got "MessageType")',
    );
    expect(loadError(REFUNDS.replace('api.example.com/v1', 'api.example.com/v2'))).toBe(
      '<file>:1: document 1 "refund-types": apiVersion must be "api.example.com/v1" (got "api.example.com/v2")',
    );
  });

  it.each([
    ['description', REFUNDS.replace('      description: Refund created event\n', ''), '<file>:7: document 1 "refund-types": type "refund.created": spec.types[0].description is required'],
    ['schema', REFUNDS.replace(/ {6}schema: .*\n/, ''), '<file>:7: document 1 "refund-types": type "refund.created": spec.types[0].schema is required'],
    ['name', REFUNDS.replace('    - name: refund.created\n      description', '    - description'), '<file>:7: document 1 "refund-types": type #1: spec.types[0].name is required'],
    ['metadata.name', REFUNDS.replace('  name: refund-types\n', '  labels: {}\n'), '<file>:3: document 1: metadata.name is required'],
    ['spec', REFUNDS.replace(/spec:[\s\S]*/, ''), '<file>:1: document 1 "refund-types": spec is required'],
  ])('refuses a type or document without %s', (_name, text, line) => {
    expect(loadError(text)).toBe(line);
  });

  it('refuses fields it does not know, and a schema that is not a mapping', () => {
    expect(loadError(REFUNDS.replace('      description:', '      descripton: x\n      description:'))).toBe(
      '<file>:8: document 1 "refund-types": type "refund.created": spec.types[0].descripton is not allowed',
    );
    expect(loadError(REFUNDS.replace(/schema: .*/, 'schema: object'))).toBe(
      '<file>:9: document 1 "refund-types": type "refund.created": spec.types[0].schema must be a JSON Schema (a mapping)',
    );
  });

  it('refuses an invalid type name', () => {
    expect(loadError(REFUNDS.replace('name: refund.created', 'name: refund created'))).toBe(
      '<file>:7: document 1 "refund-types": type "refund created": spec.types[0].name must be an event type name: dot-separated parts of letters, digits, "_" or "-", at most 100 characters',
    );
  });

  it('refuses a name listed twice, within a document or across documents', () => {
    const twice = REFUNDS.replace(/(\n {4}- name: refund\.created[\s\S]*)$/, '$1$1');
    expect(loadError(twice)).toBe('<file>:11: document 1 "refund-types": type "refund.created": listed twice, first in document 1 "refund-types" at line 7');
    expect(loadError(`${REFUNDS}---\n${OVERRIDES.replace('name: payment.updated', 'name: refund.created')}`)).toBe(
      '<file>:18: document 2 "payment-overrides": type "refund.created": listed twice, first in document 1 "refund-types" at line 7',
    );
  });

  it('refuses a schema that does not compile, at the schema', () => {
    expect(loadError(OVERRIDES.replace('type: object', 'type: nonsense'))).toMatch(
      /^<file>:10: document 1 "payment-overrides": type "payment\.updated": schema does not compile: schema is invalid: data\/type must be/,
    );
  });

  it('refuses an empty file, and one it cannot read', () => {
    expect(loadError('# nothing\n')).toBe('<file>: holds no WebSocketMessageType document');
    expect(() => MessageTypeRegistry.withBuiltins().loadFile(join(root, 'missing.yaml'))).toThrow(/^cannot read .*missing\.yaml: ENOENT/);
  });

  it('refuses a type that a schema file already defines', () => {
    const dir = join(root, 'schemas');
    mkdirSync(dir);
    writeFileSync(join(dir, 'refund.created.json'), JSON.stringify({ type: 'object' }));
    const registry = MessageTypeRegistry.withBuiltins();
    registry.loadDirectory(dir);
    const path = file(REFUNDS);
    expect(() => registry.loadFile(path)).toThrow(`${path}:7: document 1 "refund-types": type "refund.created": also defined by schema file ${join(dir, 'refund.created.json')}`);
  });

  it('registers nothing from a file with an error', () => {
    const registry = MessageTypeRegistry.withBuiltins();
    expect(() => registry.loadFile(file(`${OVERRIDES}---\n${REFUNDS.replace('type: object', 'type: nonsense')}`))).toThrow(RegistryError);
    expect(registry.types()).toEqual(['payment.created', 'payment.updated']);
    expect(registry.validate('payment.updated', { payment_id: 'p', merchant_id: 'm', status: 'paid' })).toEqual([]);
  });
});
