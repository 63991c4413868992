import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests next to the code, and network tests under test/ that
// start real processes and real redis-server instances (they need `pnpm build` first).
// A package's engine conformance runs sit in its test/ dir (packages/broker/test,
// packages/admission/test): the memory engine's run is a unit test, the runs on a real
// Redis or Redis Cluster (`*-redis*.test.ts`) are integration tests.
// A third, the chaos suite (test/chaos), exists only with HERALD_CHAOS=1 (`pnpm
// test:chaos`): it is kept out of `npm test` for its length, each case killing or
// freezing processes under 300 clients' load.
const chaos = {
  test: {
    name: 'chaos',
    include: ['test/chaos/**/*.test.ts'],
    environment: 'node' as const,
    testTimeout: 150_000,
    hookTimeout: 120_000,
    globalSetup: ['test/support/global-setup.ts'],
    // One case at a time: each measures a recovery that a neighbour's load would distort.
    fileParallelism: false,
    sequence: { groupOrder: 2 },
  },
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/*-memory.test.ts', 'services/*/src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 15_000,
          // Unit tests first, then the integration project with its own worker limit.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'packages/*/test/*-redis*.test.ts'],
          exclude: ['test/chaos/**', '**/node_modules/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          globalSetup: ['test/support/global-setup.ts'],
          // Integration tests start processes; two cores do not gain from more workers.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      ...(process.env.HERALD_CHAOS === '1' ? [chaos] : []),
    ],
  },
});
