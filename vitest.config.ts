import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests next to the code, and network tests under test/ that
// start real processes and real redis-server instances (they need `pnpm build` first).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 15_000,
          // Unit tests first, then the integration project with its own worker limit.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          globalSetup: ['test/support/global-setup.ts'],
          // Integration tests start processes; two cores do not gain from more workers.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
