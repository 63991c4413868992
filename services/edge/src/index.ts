export { EdgeServer, type EdgeDependencies } from './edge-server.js';
export { edgeOptionsFromConfig, type EdgeOptions } from './options.js';
export { TokenVerifier, type Identity, type VerifierOptions } from './auth.js';
export { frameText, PING_FRAME } from './frame.js';
export { NODE_STATS_SCHEMA } from './stats/node-stats-schema.js';
export { STATS_EVENT_TYPE, type NodeStats } from './stats/node-stats.js';
