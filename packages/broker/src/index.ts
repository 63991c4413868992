export * from './broker.js';
export { MemoryBroker, type MemoryBrokerOptions } from './broker-memory.js';
export { MemoryBrokerStore } from './memory-store.js';
