export { run, type Mode } from './run.js';
export { mintToken, generateSecret } from './tokens.js';
