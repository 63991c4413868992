/**
 * Typed events. An event map names each event type and the shape of its `data`;
 * `sub.on('payment.created', (e) => e.data.amount)` is typed through it. The built-in
 * payment types mirror the registry's JSON Schemas (`@herald/protocol`), and the
 * compile-time checks at the bottom of this file fail `tsc` if the two drift apart.
 */
import type { Envelope, paymentCreatedSchema, paymentUpdatedSchema } from '@herald/protocol';

/** An event as delivered, with its type narrowed. */
export interface HeraldEvent<TType extends string = string, TData = unknown> extends Envelope<TData> {
  type: TType;
}

/** `data` of `payment.created` (amount in minor units, currency ISO 4217). */
export interface PaymentCreatedData {
  payment_id: string;
  order_id: string;
  merchant_id: string;
  amount: number;
  currency: string;
  status: string;
}

/** `data` of `payment.updated`: only the ids and the status are always present. */
export interface PaymentUpdatedData {
  payment_id: string;
  merchant_id: string;
  status: string;
  order_id?: string;
  amount?: number;
  currency?: string;
}

export type PaymentCreated = HeraldEvent<'payment.created', PaymentCreatedData>;
export type PaymentUpdated = HeraldEvent<'payment.updated', PaymentUpdatedData>;

/**
 * The built-in event map. Extend it for types registered by configuration:
 * `interface MyEvents extends HeraldEventMap { 'refund.created': RefundData }`, then
 * `client.subscribe<MyEvents>(channel)`.
 */
export interface HeraldEventMap {
  'payment.created': PaymentCreatedData;
  'payment.updated': PaymentUpdatedData;
}

/** Any object type mapping event types to their `data`. */
export type EventMap = object;

/** The event of type `K` under map `M`. */
export type EventOf<M extends EventMap, K extends keyof M & string> = HeraldEvent<K, M[K]>;

// ---- Compile-time drift checks against the registry schemas -------------------------

/** Keys of `T` that are not optional. */
export type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

type JsonSchemaValue<P> = P extends { type: 'string' }
  ? string
  : P extends { type: 'integer' | 'number' }
    ? number
    : P extends { type: 'boolean' }
      ? boolean
      : unknown;

interface ObjectSchema {
  readonly required: readonly string[];
  readonly properties: object;
}

type Flatten<T> = { [K in keyof T]: T[K] };

/** The TypeScript shape a (flat) object schema describes: required and optional keys. */
export type DataOfSchema<S extends ObjectSchema> = Flatten<
  { [K in keyof S['properties'] & S['required'][number]]: JsonSchemaValue<S['properties'][K]> } & {
    [K in Exclude<keyof S['properties'], S['required'][number]>]?: JsonSchemaValue<S['properties'][K]>;
  }
>;

/** Exact type equality (distinguishes optional from required, `any` from others). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

type Assert<T extends true> = T;

// If a schema gains, loses or retypes a field, or changes what is required, these lines
// stop compiling and `tsc -b packages/client` fails: update the interfaces above.
export type PaymentCreatedMatchesSchema = Assert<Equal<Flatten<PaymentCreatedData>, DataOfSchema<typeof paymentCreatedSchema>>>;
export type PaymentUpdatedMatchesSchema = Assert<Equal<Flatten<PaymentUpdatedData>, DataOfSchema<typeof paymentUpdatedSchema>>>;
