/**
 * The Node dependencies: the database the configuration asks for, and `Deps` built from Node
 * APIs (worker-thread password hashing, node:crypto, the buffered stdout log). Node-only: used
 * by the server, the commands, the tools and the tests; src/worker.ts builds the Worker's.
 */
import { createHash } from 'node:crypto';
import { createPooledPasswordHasher, type HashPoolOptions } from '../../auth/hash-pool.js';
import { createIdTokenVerifier } from '../../auth/id-tokens.js';
import type { Argon2idParams } from '../../auth/password.js';
import type { Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import { createPostgresDatabase } from '../../db/node-postgres.js';
import { systemClock, type Deps } from '../../deps.js';
import { forwardedClientIp } from '../../http/client-ip.js';
import { createJsonLogger, type Logger } from '../../logger.js';
import { timedDatabase } from '../../metrics/database.js';
import { noopMetrics, type Metrics } from '../../metrics/index.js';
import { createMemoryCatalogCache } from '../../modules/catalog/cache.js';
import { createPayments } from '../../payments/stripe.js';
import { createPackageDocsAssets } from './docs-assets.js';
import { bufferedStdout } from './log-sink.js';
import { OrderInputsCache } from '../../db/order-inputs.js';

/** PGLITE_DIR's default, relative to the working directory (src/platform/node/config.ts, NodeServerConfig.pgliteDir). */
export const DEFAULT_PGLITE_DIR = '.data/pglite';

/**
 * Picks the driver the configuration asks for; no DATABASE_URL means embedded PGlite. The drivers
 * not asked for are never loaded (imported here, not at the top): PGlite, its migrator and the
 * Neon client held several MiB of a server process that uses node-postgres (issue 16, peak RSS).
 */
export async function openDatabase(config: Config, pgliteDir = DEFAULT_PGLITE_DIR): Promise<Database> {
  if (!config.databaseUrl) {
    const [{ createPgliteDatabase }, { migrateDatabase }, { seedCatalog }] = await Promise.all([
      import('../../db/pglite.js'),
      import('../../db/migrate.js'),
      import('../../db/seed.js'),
    ]);
    const database = await createPgliteDatabase(pgliteDir);
    await migrateDatabase(database);
    await seedCatalog(database, config.currency);
    return database;
  }
  if (config.databaseDriver === 'neon-http') {
    const { createNeonDatabase } = await import('../../db/neon.js');
    return createNeonDatabase(config.databaseUrl, { localEndpoint: config.neonLocalEndpoint, timeoutMs: config.databaseTimeoutMs });
  }
  const logger = createJsonLogger({ level: config.logLevel, base: { runtime: 'node', version: config.appVersion }, sink: bufferedStdout() });
  return createPostgresDatabase(config.databaseUrl, { timeoutMs: config.databaseTimeoutMs, logger });
}

export interface NodeDepsOptions {
  database: Database;
  logger?: Logger;
  /** Tests may lower the hashing cost; production always uses the OWASP parameters. */
  argon2Params?: Argon2idParams;
  /** Hashing threads and their queue bound (src/auth/hash-pool.ts); the server passes NodeServerConfig.hashPool (PASSWORD_HASH_*). */
  hashPool?: HashPoolOptions;
  /** The server passes Prometheus; one-shot commands (the CLI) count nothing. */
  metrics?: Metrics;
}

/**
 * The Node `Deps` (src/deps.ts): `opts.database` timed into `opts.metrics` (none by default),
 * the JSON logger on buffered stdout unless `opts.logger`, Argon2id on worker threads.
 */
export function createNodeDeps(config: Config, opts: NodeDepsOptions): Deps {
  const sha256Hex = (text: string) => Promise.resolve(createHash('sha256').update(text).digest('hex'));
  const metrics = opts.metrics ?? noopMetrics;
  return {
    config,
    database: timedDatabase(opts.database, metrics),
    metrics,
    clock: systemClock,
    logger:
      opts.logger ??
      createJsonLogger({ level: config.logLevel, base: { runtime: 'node', version: config.appVersion }, sink: bufferedStdout() }),
    passwords: createPooledPasswordHasher(opts.argon2Params, opts.hashPool),
    sha256Hex,
    catalogCache: createMemoryCatalogCache(),
    orderInputs: new OrderInputsCache(),
    docsAssets: createPackageDocsAssets(),
    payments: createPayments(config),
    runtime: 'node',
    clientIp: forwardedClientIp(config.trustedProxyHops),
    lifecycle: { draining: false },
    idTokens: createIdTokenVerifier(config.oauth, sha256Hex),
  };
}
