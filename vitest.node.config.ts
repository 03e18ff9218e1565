import { defineConfig } from 'vitest/config';
import { nodeProject, unitProject } from './vitest.config.js';

/**
 * The `unit` and `node` projects alone, for tools/test/run.ts's first vitest process. Not
 * vitest.config.ts with `--project`: vitest loads every project's config before it filters, and
 * vitest.workers.config.ts starts the Workers suite's database endpoint as it loads (dropping and
 * recreating its database), which the second process, running the Workers suite, is using.
 */
export default defineConfig({ test: { projects: [unitProject, nodeProject] } });
