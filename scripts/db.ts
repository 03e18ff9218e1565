/**
 * Opens the database the way operator commands need it: a session driver, so that
 * migrations run in a transaction. A Neon URL is used over TCP here (Neon accepts it),
 * never over HTTP.
 */
import { loadConfig, type Config } from '../src/config.js';
import type { Database } from '../src/db/client.js';
import { DEFAULT_PGLITE_DIR } from '../src/platform/node/deps.js';
import { createPostgresDatabase } from '../src/db/node-postgres.js';
import { createPgliteDatabase } from '../src/db/pglite.js';

export async function openOperatorDatabase(env: NodeJS.ProcessEnv = process.env): Promise<{ config: Config; database: Database }> {
  const config = loadConfig(env);
  const database = config.databaseUrl
    ? createPostgresDatabase(config.databaseUrl, { max: 1 })
    : await createPgliteDatabase(env.PGLITE_DIR ?? DEFAULT_PGLITE_DIR);
  return { config, database };
}
