import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageTypeRegistry, RegistryError } from './registry.js';

const payment = { payment_id: 'pay_1', order_id: 'order_1', merchant_id: 'm_1', amount: 100, currency: 'EUR', status: 'pending' };

describe('MessageTypeRegistry', () => {
  const registry = MessageTypeRegistry.withBuiltins();

  it('knows the built-in payment types', () => {
    expect(registry.types()).toEqual(['payment.created', 'payment.updated']);
    expect(registry.validate('payment.created', payment)).toEqual([]);
    expect(registry.validate('payment.updated', { payment_id: 'pay_1', merchant_id: 'm_1', status: 'paid' })).toEqual([]);
  });

  it('names every failing field', () => {
    const errors = registry.validate('payment.created', { ...payment, amount: 1.5, currency: 'eur', merchant_id: undefined });
    expect(errors.map((e) => e.field).sort()).toEqual(['data.amount', 'data.currency', 'data.merchant_id']);
  });

  it('rejects identifiers that cannot be channel segments', () => {
    expect(registry.validate('payment.created', { ...payment, merchant_id: 'm:42' })).toEqual([
      { field: 'data.merchant_id', message: expect.stringContaining('pattern') },
    ]);
  });

  it('loads more types from a directory of schema files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-schemas-'));
    writeFileSync(join(dir, 'refund.created.json'), JSON.stringify({ type: 'object', required: ['refund_id'], properties: { refund_id: { type: 'string' } } }));
    const custom = MessageTypeRegistry.withBuiltins();
    expect(custom.loadDirectory(dir)).toEqual(['refund.created']);
    expect(custom.validate('refund.created', {})).toEqual([{ field: 'data.refund_id', message: 'is required' }]);
  });

  it('refuses a schema file that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-schemas-'));
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(() => MessageTypeRegistry.withBuiltins().loadDirectory(dir)).toThrow(RegistryError);
  });
});
