/**
 * `npm run db:migrate [-- --seed]`: applies pending migrations from migrations/ to
 * DATABASE_URL (or the embedded PGlite in .data/ when it is unset). With --seed, also
 * inserts the default catalog where its slugs are free. Bounded by MIGRATION_LOCK_TIMEOUT_MS
 * (default 5 s) and MIGRATION_STATEMENT_TIMEOUT_MS (default 5 min); past either it exits 1
 * naming the bound, with nothing applied (docs/runbook.md, "When a migration goes wrong").
 */
import { seedCatalog } from '../src/db/seed.js';
import { migrateDatabase, migrationTimeoutsFromEnv } from '../src/db/migrate.js';
import { openOperatorDatabase } from './db.js';

const timeouts = migrationTimeoutsFromEnv(process.env);
const { config, database } = await openOperatorDatabase();
try {
  await migrateDatabase(database, { timeouts });
  console.log(`migrations applied (${database.kind}; lock_timeout ${timeouts.lockTimeoutMs} ms, statement_timeout ${timeouts.statementTimeoutMs} ms)`);
  if (process.argv.includes('--seed')) {
    await seedCatalog(database, config.currency);
    console.log('default catalog seeded');
  }
} finally {
  await database.close();
}
