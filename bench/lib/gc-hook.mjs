/**
 * Preloaded into servers by the `idle` scenario (`--expose-gc --import`): SIGUSR2 runs
 * a full garbage collection, so heap and RSS are read without floating garbage. A
 * bench-only hook; the servers themselves are unchanged.
 */
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
});
