import { sql, type SQL } from 'drizzle-orm';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { HashPoolOptions } from '../../src/auth/hash-pool.js';
import { AnyRow, type Database } from '../../src/db/client.js';
import { setUserRole } from '../../src/modules/auth/set-user-role.js';
import { setUserDisabled } from '../../src/modules/auth/set-user-disabled.js';
import { createMemoryLogger } from '../../src/logger.js';
import type { Metrics } from '../../src/metrics/index.js';
import { createMemoryMetrics } from '../../src/metrics/memory.js';
import { createNodeDeps } from '../../src/platform/node/deps.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { prepare } from '../setup/databases.js';
import { apiClient } from './client.js';
import { TEST_JWT_SECRET, type Harness } from './harness.js';
import { stripeControl, stripeEnv } from './stripe.js';

/** The database the Node suite runs on: the PostgreSQL server when configured, else PGlite. */
export async function openTestDatabase(): Promise<Database> {
  const url = inject('nodeDatabaseUrl');
  if (url) return createPostgresDatabase(url, { max: 20 });
  const database = await createPgliteDatabase('memory://');
  await prepare(database);
  return database;
}

export interface TestApp extends Harness {
  app: ReturnType<typeof createApp>;
  deps: ReturnType<typeof createNodeDeps>;
  logger: ReturnType<typeof createMemoryLogger>;
  metrics: Metrics;
  close(): Promise<void>;
}

/** Builds the real app with injected config (never by editing process.env). */
export async function createTestApp(
  opts: { database?: Database; env?: Record<string, string>; stripe?: boolean; metrics?: Metrics; hashPool?: HashPoolOptions } = {},
): Promise<TestApp> {
  const database = opts.database ?? (await openTestDatabase());
  const stripeUrl = inject('stripeUrl');
  const config = loadConfig({
    APP_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    // Journeys name their client address in X-Forwarded-For (and CF-Connecting-IP for workerd).
    TRUSTED_PROXY_HOPS: '1',
    ...(opts.stripe === false ? {} : stripeEnv(stripeUrl)),
    ...opts.env,
  });
  const logger = createMemoryLogger();
  const metrics = opts.metrics ?? createMemoryMetrics();
  const deps = createNodeDeps(config, { database, logger, metrics, ...(opts.hashPool ? { hashPool: opts.hashPool } : {}) });
  const app = createApp(deps);
  return {
    app,
    deps,
    logger,
    metrics,
    api: apiClient((request) => Promise.resolve(app.fetch(request))),
    jwtSecret: TEST_JWT_SECRET,
    stripe: stripeControl(stripeUrl),
    setRole: async (email, role) => {
      await database.rows(AnyRow, setUserRole(email, role, new Date()));
    },
    setDisabled: async (email, disabled) => {
      await database.rows(AnyRow, setUserDisabled(email, disabled, new Date()));
    },
    sql: async <T,>(query: string, params: unknown[] = []): Promise<T[]> => {
      const chunks: SQL[] = [];
      const parts = query.split(/\$(\d+)/);
      for (let i = 0; i < parts.length; i++) {
        chunks.push(i % 2 === 0 ? sql.raw(parts[i]!) : sql`${params[Number(parts[i]) - 1]}`);
      }
      return (await database.rows(AnyRow, sql.join(chunks, sql``))) as T[]; // the caller names the row type; tests read what they wrote
    },
    close: async () => {
      await deps.passwords.close?.();
      await database.close();
    },
  };
}
