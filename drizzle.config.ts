import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` diffs src/db/schema.ts against migrations/ and writes the next SQL file.
// Generation needs no database; applying is `npm run db:migrate` (scripts/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
  strict: true,
  verbose: true,
});
