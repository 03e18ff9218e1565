/**
 * `npm run db:migrate [-- --seed]`: applies pending migrations from migrations/ to
 * DATABASE_URL (or the embedded PGlite in .data/ when it is unset). With --seed, also
 * inserts the default catalog where its slugs are free.
 */
import { seedCatalog } from '../src/db/seed.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { openOperatorDatabase } from './db.js';

const { config, database } = await openOperatorDatabase();
try {
  await migrateDatabase(database);
  console.log(`migrations applied (${database.kind})`);
  if (process.argv.includes('--seed')) {
    await seedCatalog(database, config.currency);
    console.log('default catalog seeded');
  }
} finally {
  await database.close();
}
