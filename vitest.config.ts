import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs three projects:
 * - unit: pure functions, no I/O;
 * - node: the app on Node, on the PostgreSQL server when TEST_DATABASE_URL is set, else PGlite;
 * - workers: the Worker inside workerd, through the real neon-http driver and the local
 *   Neon-compatible endpoint (see vitest.workers.config.ts).
 */
export const unitProject = { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } };
export const nodeProject = {
  test: {
    name: 'node',
    include: ['test/node/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/setup/node-global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
};

export default defineConfig({
  test: {
    // `npm test` runs unit and node through vitest.node.config.ts, apart from workers (tools/test/run.ts).
    projects: [unitProject, nodeProject, './vitest.workers.config.ts'],
  },
});
