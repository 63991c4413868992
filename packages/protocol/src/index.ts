export * from './close-codes.js';
export * from './problems.js';
export * from './channels.js';
export * from './seq.js';
export * from './frames.js';
export * from './commands.js';
export * from './envelope.js';
export * from './json-input.js';
export { BUILTIN_SCHEMAS, paymentCreatedSchema, paymentUpdatedSchema } from './schemas/payment.js';
