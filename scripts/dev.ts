/**
 * `npm run dev`: the Worker under `wrangler dev`, talking through the real neon-http driver
 * to a local Neon-compatible endpoint. Zero configuration: the database is an embedded
 * PGlite in .data/dev (migrated and seeded here, demo zone, slots and accounts included), or
 * the PostgreSQL server in DATABASE_URL (catalog only; SEED_DEMO=1 adds the demo data).
 *
 *   npm run dev                       # http://localhost:8787
 *   npm run dev -- --port 9000        # extra args go to wrangler dev
 *
 * Works offline: wrangler is started with the Request.cf fetch (workers.cloudflare.com/cf.json,
 * which offline costs a stack trace and, where the network hangs, a 3 s timeout) and telemetry
 * turned off, the supported way (CLOUDFLARE_CF_FETCH_ENABLED=false, WRANGLER_SEND_METRICS=false,
 * https://developers.cloudflare.com/workers/wrangler/system-environment-variables/); set either
 * yourself to override. The Worker reads nothing from request.cf.
 */
import { spawn } from 'node:child_process';
import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { lockFolder } from '../src/db/pglite-lock.js';
import { seedCatalog } from '../src/db/seed.js';
import { demoBanner, seedDemo, type DemoSummary } from '../src/db/demo-seed.js';
import { loadArgon2idKernel } from '../src/auth/argon2-node.mjs';
import { createPasswordHasher } from '../src/auth/password.js';
import { systemClock } from '../src/deps.js';
import type { Database } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createPostgresDatabase } from '../src/db/node-postgres.js';
import { createPgliteDatabase } from '../src/db/pglite.js';
import { LOCAL_NEON_CONNECTION_STRING, pgBackend, pgliteBackend, startLocalNeon, type LocalNeonBackend } from '../tools/local-neon/index.js';

const serverUrl = process.env.DATABASE_URL;
const currency = process.env.CURRENCY ?? 'USD';
let demo: DemoSummary | undefined;
/**
 * The catalog always; the demo data on the embedded database, or on the server with SEED_DEMO=1
 * (the Worker runs with APP_ENV=development). A shell with APP_ENV=production never gets demo
 * accounts with published passwords: seedDemo refuses.
 */
async function seed(database: Database, withDemo: boolean) {
  await migrateDatabase(database);
  await seedCatalog(database, currency);
  if (withDemo) demo = await seedDemo({ database, clock: systemClock, passwords: createPasswordHasher(loadArgon2idKernel) }, { currency, appEnv: process.env.APP_ENV === 'production' ? 'production' : 'development' });
}
let backend: LocalNeonBackend;
let closeDb: () => Promise<void>;
if (serverUrl) {
  const database = createPostgresDatabase(serverUrl, { max: 1 });
  await seed(database, process.env.SEED_DEMO === '1');
  await database.close();
  backend = pgBackend(serverUrl);
  closeDb = () => backend.close();
} else {
  mkdirSync('.data/dev', { recursive: true });
  // One process per embedded folder (src/db/pglite-lock.ts); freed on exit.
  lockFolder('.data/dev');
  const pglite = await PGlite.create('.data/dev');
  const database = await createPgliteDatabase(pglite);
  await seed(database, process.env.SEED_DEMO !== '0');
  backend = pgliteBackend(pglite);
  closeDb = () => pglite.close();
}

const endpoint = await startLocalNeon({
  backend,
  connectionString: LOCAL_NEON_CONNECTION_STRING,
  port: Number(process.env.LOCAL_NEON_PORT ?? 0),
});
console.log(`local Neon endpoint: ${endpoint.url} (${serverUrl ? 'PostgreSQL server' : 'PGlite in .data/dev'})`);
if (demo) console.log(demoBanner(demo));

// Its own process group (detached), so stopping this script stops wrangler and workerd with it:
// killing npx alone would leave them running.
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
  {
    stdio: 'inherit',
    detached: true,
    env: {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
      WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false',
    },
  },
);

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  try {
    if (wrangler.pid !== undefined) process.kill(-wrangler.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  await endpoint.close();
  await closeDb();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
wrangler.on('exit', (code) => void stop(code ?? 0));
