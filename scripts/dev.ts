/**
 * `npm run dev`: the Worker under `wrangler dev`, talking through the real neon-http driver
 * to a local Neon-compatible endpoint. Zero configuration: the database is an embedded
 * PGlite in .data/dev (migrated and seeded here), or the PostgreSQL server in DATABASE_URL.
 *
 *   npm run dev                       # http://localhost:8787
 *   npm run dev -- --port 9000        # extra args go to wrangler dev
 */
import { spawn } from 'node:child_process';
import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { lockFolder } from '../src/db/pglite-lock.js';
import { seedCatalog } from '../src/db/seed.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createPostgresDatabase } from '../src/db/node-postgres.js';
import { createPgliteDatabase } from '../src/db/pglite.js';
import { LOCAL_NEON_CONNECTION_STRING, pgBackend, pgliteBackend, startLocalNeon, type LocalNeonBackend } from '../tools/local-neon/index.js';

const serverUrl = process.env.DATABASE_URL;
let backend: LocalNeonBackend;
let closeDb: () => Promise<void>;
if (serverUrl) {
  const database = createPostgresDatabase(serverUrl, { max: 1 });
  await migrateDatabase(database);
  await seedCatalog(database, process.env.CURRENCY ?? 'USD');
  await database.close();
  backend = pgBackend(serverUrl);
  closeDb = () => backend.close();
} else {
  mkdirSync('.data/dev', { recursive: true });
  // One process per embedded folder (src/db/pglite-lock.ts); freed on exit.
  lockFolder('.data/dev');
  const pglite = await PGlite.create('.data/dev');
  const database = await createPgliteDatabase(pglite);
  await migrateDatabase(database);
  await seedCatalog(database, process.env.CURRENCY ?? 'USD');
  backend = pgliteBackend(pglite);
  closeDb = () => pglite.close();
}

const endpoint = await startLocalNeon({
  backend,
  connectionString: LOCAL_NEON_CONNECTION_STRING,
  port: Number(process.env.LOCAL_NEON_PORT ?? 0),
});
console.log(`local Neon endpoint: ${endpoint.url} (${serverUrl ? 'PostgreSQL server' : 'PGlite in .data/dev'})`);

const wrangler = spawn(
  'npx',
  [
    'wrangler',
    'dev',
    '--var',
    `NEON_LOCAL_ENDPOINT:${endpoint.url}`,
    '--var',
    // The endpoint checks this URL's user, password and database, as Neon does.
    `DATABASE_URL:${LOCAL_NEON_CONNECTION_STRING}`,
    '--var',
    'APP_ENV:development',
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  wrangler.kill('SIGTERM');
  await endpoint.close();
  await closeDb();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
wrangler.on('exit', (code) => void stop(code ?? 0));
