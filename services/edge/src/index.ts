export { EdgeServer, type EdgeDependencies } from './edge-server.js';
export { edgeOptionsFromConfig, type EdgeOptions } from './options.js';
export { TokenVerifier, type Identity, type VerifierOptions } from './auth.js';
export { frameText, PING_FRAME } from './frame.js';
