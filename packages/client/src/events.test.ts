/**
 * The payment event types against the registry schemas. `src/events.ts` already fails
 * `tsc` when the interfaces and the schemas drift (PaymentCreatedMatchesSchema); this
 * test states the same at run time through typed key lists: each list is checked
 * against the TypeScript type (members and completeness, by the type checker) and
 * against the schema (by value), so the schema and the type cannot disagree.
 */
import { paymentCreatedSchema, paymentUpdatedSchema } from '@herald/protocol';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HeraldEventMap, Subscription, PaymentCreated, PaymentCreatedData, PaymentUpdated, PaymentUpdatedData, RequiredKeys, SubscriptionHandlers } from './index.js';

/** `true` only when `List` names every member of `Keys`. */
type Covers<List extends readonly string[], Keys extends string> = [Exclude<Keys, List[number]>] extends [never] ? true : false;

const createdRequired = ['payment_id', 'order_id', 'merchant_id', 'amount', 'currency', 'status'] as const satisfies readonly RequiredKeys<PaymentCreatedData>[];
const createdAll = ['payment_id', 'order_id', 'merchant_id', 'amount', 'currency', 'status'] as const satisfies readonly (keyof PaymentCreatedData)[];
const updatedRequired = ['payment_id', 'merchant_id', 'status'] as const satisfies readonly RequiredKeys<PaymentUpdatedData>[];
const updatedAll = ['payment_id', 'order_id', 'merchant_id', 'amount', 'currency', 'status'] as const satisfies readonly (keyof PaymentUpdatedData)[];

const complete: [
  Covers<typeof createdRequired, RequiredKeys<PaymentCreatedData>>,
  Covers<typeof createdAll, keyof PaymentCreatedData>,
  Covers<typeof updatedRequired, RequiredKeys<PaymentUpdatedData>>,
  Covers<typeof updatedAll, keyof PaymentUpdatedData>,
] = [true, true, true, true];

const sorted = (keys: readonly string[]) => [...keys].sort();

describe('payment event types', () => {
  it('the typed key lists are complete', () => {
    expect(complete).toEqual([true, true, true, true]);
  });

  it('payment.created: required keys and properties equal the schema', () => {
    expect(sorted(createdRequired)).toEqual(sorted(paymentCreatedSchema.required));
    expect(sorted(createdAll)).toEqual(sorted(Object.keys(paymentCreatedSchema.properties)));
  });

  it('payment.updated: required keys and properties equal the schema', () => {
    expect(sorted(updatedRequired)).toEqual(sorted(paymentUpdatedSchema.required));
    expect(sorted(updatedAll)).toEqual(sorted(Object.keys(paymentUpdatedSchema.properties)));
  });

  it('field types follow the schema (integer amount, string ids)', () => {
    expect(paymentCreatedSchema.properties.amount.type).toBe('integer');
    expectTypeOf<PaymentCreatedData['amount']>().toEqualTypeOf<number>();
    expectTypeOf<PaymentUpdatedData['amount']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<PaymentCreated['type']>().toEqualTypeOf<'payment.created'>();
    expectTypeOf<PaymentUpdated['data']>().toEqualTypeOf<PaymentUpdatedData>();
    expectTypeOf<Parameters<SubscriptionHandlers<HeraldEventMap>['payment.created']>[0]>().toEqualTypeOf<PaymentCreated>();
  });

  it('rejects unknown event names and unknown fields at compile time (tsconfig.test.json)', () => {
    const sub = undefined as Subscription | undefined;
    if (sub) {
      // @ts-expect-error -- not an event type of the map
      sub.on('payment.creatd', () => {});
      // @ts-expect-error -- no such field in payment.created
      sub.on('payment.created', (event) => event.data.nope);
      sub.on('payment.updated', (event) => {
        const amount: number | undefined = event.data.amount;
        return amount;
      });
    }
    expect(sub).toBeUndefined();
  });
});
