export * from './admission.js';
export { MemoryAdmission } from './admission-memory.js';
export { isRevokedToken, type Revocation, type RevocationListener, type Revocations } from './revocations.js';
export { MemoryRevocations } from './revocations-memory.js';
