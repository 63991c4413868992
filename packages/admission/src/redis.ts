export { RedisAdmission, type RedisAdmissionOptions, type AdmissionLogger } from './redis/redis-admission.js';
export { RedisRevocations, type RedisRevocationsOptions } from './redis/redis-revocations.js';
