export { RedisAdmission, type RedisAdmissionOptions, type AdmissionLogger } from './redis/redis-admission.js';
