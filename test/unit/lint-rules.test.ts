import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { boundaries, MODULE_LAYERS } from '../../eslint.config.js';

/**
 * The architecture's import rules (eslint.config.js `boundaries`) must fire on a forbidden
 * import and stay quiet on an allowed one: a rule that cannot fail proves nothing. Paths are
 * linted as text, so they need not exist (some are the layout still to come).
 */
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfigFile: true,
  overrideConfig: [{ ...tseslint.configs.base, files: ['**/*.ts'] }, ...boundaries],
});

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath });
  // One rule may fire for two of its patterns (a Node-only path that is also another module's): count it once.
  return [...new Set((result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`))];
}

const FIRES = ['no-restricted-imports'];

describe('src/domain imports nothing outside src/domain', () => {
  it.each([
    ["import { sql } from 'drizzle-orm';"],
    ["import type { Deps } from '../deps.js';"],
    ["import { ApiError } from '../errors.js';"],
    ["import { z } from 'zod';"],
    ["import { createHash } from 'node:crypto';"],
  ])('refuses %s', async (code) => {
    expect(await restricted('src/domain/pricing.ts', code)).toEqual(FIRES);
  });

  it('allows its own files', async () => {
    expect(await restricted('src/domain/pricing.ts', "import { DomainError } from './errors.js';")).toEqual([]);
  });
});

describe('only runtime entries and platform modules import runtime-specific code', () => {
  const shared = ['src/app.ts', 'src/modules/orders/create.ts', 'src/http/middleware.ts', 'src/db/client.ts', 'src/db/neon.ts', 'src/config.ts'];
  const nodeOnly = [
    "import pg from 'pg';",
    "import { PGlite } from '@electric-sql/pglite';",
    "import { serve } from '@hono/node-server';",
    "import { Piscina } from 'piscina';",
    "import { Registry } from 'prom-client';",
    "import { drizzle } from 'drizzle-orm/node-postgres';",
    "import { migrate } from 'drizzle-orm/pglite/migrator';",
    "import { readFileSync } from 'node:fs';",
    "import { createNodeDeps } from '../../node.js';",
    "import { createPgliteDatabase } from '../../db/pglite.js';",
    "import { createPostgresDatabase } from '../db/node-postgres.js';",
    "import { migrateDatabase } from './migrate.js';",
    "import { createPgPool } from './node-postgres.js';",
    "import { lockFolder } from './pglite-lock.js';",
    "import { createNodeDeps } from '../platform/node/deps.js';",
    "import { createPooledPasswordHasher } from '../auth/hash-pool.js';",
    "import { createPrometheusMetrics } from '../metrics/prometheus.js';",
  ];
  const workersOnly = ["import { env } from 'cloudflare:workers';", "import { createAnalyticsEngineMetrics } from '../metrics/analytics-engine.js';", "import worker from './worker.js';"];

  it.each(shared.flatMap((file) => [...nodeOnly, ...workersOnly].map((code) => [file, code])))('%s refuses %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual(FIRES);
  });

  it.each(shared)('%s may import shared code and shared packages', async (file) => {
    // The relative path from `file` up to src/.
    const src = file.split('/').length > 2 ? '../'.repeat(file.split('/').length - 2) : './';
    const code = [
      "import { sql } from 'drizzle-orm';",
      "import { drizzle } from 'drizzle-orm/neon-http';",
      "import { OpenAPIHono } from '@hono/zod-openapi';",
      `import type { Database } from '${src}db/client.js';`,
      `import { getOrder } from '${src}modules/orders/get.js';`,
      `import { createNeonDatabase } from '${src}db/neon.js';`,
    ].join('\n');
    expect(await restricted(file, code)).toEqual([]);
  });

  it.each([
    ['src/node.ts', "import { serve } from '@hono/node-server';\nimport { resolve } from 'node:path';\nimport { createNodeDeps } from './platform/node/deps.js';"],
    ['src/platform/node/deps.ts', "import { createPgliteDatabase } from '../../db/pglite.js';\nimport { Registry } from 'prom-client';"],
    ['src/db/pglite.ts', "import { PGlite } from '@electric-sql/pglite';\nimport { lockFolder } from './pglite-lock.js';"],
    ['src/db/node-postgres.ts', "import { drizzle } from 'drizzle-orm/node-postgres';\nimport { sessionDatabase } from './session.js';"],
    ['src/worker.ts', "import { createAnalyticsEngineMetrics } from './metrics/analytics-engine.js';\nimport { createApp } from './app.js';"],
  ])('%s, a platform file, may import its runtime', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });

  it.each([
    ['src/node.ts', "import worker from './worker.js';"],
    ['src/platform/node/server.ts', "import { createAnalyticsEngineMetrics } from '../../metrics/analytics-engine.js';"],
    ['src/worker.ts', "import { createNodeDeps } from './node.js';"],
    ['src/worker.ts', "import pg from 'pg';"],
  ])('%s may not import the other runtime: %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual(FIRES);
  });
});

describe('modules import only the modules below them', () => {
  it.each([
    ['src/modules/orders/create.ts', "import { captureOrderPayment } from '../payments/capture.js';"],
    ['src/modules/orders/create.ts', "import { cancelOrder } from '../fulfilment/cancel.js';"],
    ['src/modules/payments/capture.ts', "import { cancelOrder } from '../fulfilment/cancel.js';"],
    ['src/modules/scheduling/coverage.ts', "import { listZones } from '../zones/list.js';"],
    ['src/modules/auth/login.ts', "import { getOrder } from '../orders/get.js';"],
    ['src/modules/fulfilment/cancel.ts', "import { logIn } from '../auth/login.js';"],
  ])('%s refuses %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual(FIRES);
  });

  it.each([
    ['src/modules/payments/capture.ts', "import { raiseFlag } from '../orders/shared.js';"],
    ['src/modules/fulfilment/cancel.ts', "import { changeOrderStatus } from '../orders/transition.js';"],
    ['src/modules/fulfilment/cancel.ts', "import { settleCancelledOrder } from '../payments/settle-cancelled.js';"],
    ['src/modules/zones/list.ts', "import { cutoffAtOf } from '../scheduling/slot-times.js';"],
    ['src/modules/orders/create.ts', "import { ApiError } from '../../errors.js';"],
    ['src/modules/orders/create.ts', "import { readContext } from './create-context.js';"],
  ])('%s allows %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });

  it('still refuses runtime-specific imports in a module (the layer rule does not replace them)', async () => {
    expect(await restricted('src/modules/orders/create.ts', "import { createHash } from 'node:crypto';")).toEqual(FIRES);
    expect(await restricted('src/modules/payments/capture.ts', "import pg from 'pg';")).toEqual(FIRES);
  });

  it('every module folder has its place in the layers', () => {
    const folders = readdirSync('src/modules', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.sort()).toEqual(Object.keys(MODULE_LAYERS).sort());
    for (const below of Object.values(MODULE_LAYERS)) for (const name of below) expect(folders).toContain(name);
  });
});
