import { sql, type SQL } from 'drizzle-orm';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { HashPoolOptions } from '../../src/auth/hash-pool.js';
import type { Argon2idParams } from '../../src/auth/password.js';
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

/**
 * Argon2id at its lowest cost (64 KiB, one pass) for the Node test apps: the same algorithm, PHC
 * strings, pool and code paths, at a fraction of a millisecond per derivation instead of ~65–330 ms
 * (OWASP's 19 MiB, two passes, on this box). Hundreds of fixtures register and log in, so this is
 * what keeps the Node suite within CI's time. The production cost is what test/unit/password.test.ts,
 * test/node/password-pool.test.ts (which opts back in where speed matters: a full queue), the servers
 * the tests start as processes, the Workers suite and `npm run bench` use.
 */
export const TEST_ARGON2ID: Argon2idParams = { memoryKiB: 64, passes: 1, parallelism: 1 };

/** Builds the real app with injected config (never by editing process.env). */
export async function createTestApp(
  opts: {
    database?: Database;
    env?: Record<string, string>;
    stripe?: boolean;
    metrics?: Metrics;
    hashPool?: HashPoolOptions;
    /** Default TEST_ARGON2ID. */
    argon2Params?: Argon2idParams;
  } = {},
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
  const deps = createNodeDeps(config, { database, logger, metrics, argon2Params: opts.argon2Params ?? TEST_ARGON2ID, ...(opts.hashPool ? { hashPool: opts.hashPool } : {}) });
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
