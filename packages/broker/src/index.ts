export * from './broker.js';
export { retentionOf, DEFAULT_RETENTION_SETTINGS, type RetentionSettings } from './retention.js';
export { MemoryBroker, type MemoryBrokerOptions } from './broker-memory.js';
export { MemoryBrokerStore } from './memory-store.js';
