export * from './admission.js';
export { MemoryAdmission } from './admission-memory.js';
