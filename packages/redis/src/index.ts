/**
 * `@herald/redis`: how Herald reaches Redis. Used by the broker's and admission's Redis
 * engines, the ingest stream and the CLI's wiring; the edge never imports it (it talks
 * to the Broker and Admission interfaces).
 */
export { createRedisClient, whenReady, closeClient, watchClientErrors, type ClientRole, type RedisClient, type RedisClientOptions, type RedisLogger } from './clients.js';
export { parseClusterNodes, tlsConnectOptions, type RedisConnectionOptions, type RedisTlsOptions } from './connection.js';
export { withDeadline, RedisTimeoutError } from './deadline.js';
export { KeyLayout, DEFAULT_KEY_PREFIX, INGEST_CONSUMER_GROUP, type AdmissionKeys } from './keys.js';
export { keySlot, SLOT_COUNT } from './slot.js';
export { LuaScript, isNoScript, runScript, runScriptBuffer, runScriptCalls, queueScript, type ScriptArg, type ScriptCall, type ScriptClient } from './lua-script.js';
export { topologyOf } from './topology-of.js';
export type { RedisTopology, SendOptions, PubSubOptions, ShardCommand, ShardBatchOptions, CommandArg } from './topology.js';
export { MAX_CHANNELS_PER_COMMAND, type LinkEvents, type PubSubLink } from './link.js';
