import { inject } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { startStripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { prepare, recreateServerDatabase } from '../setup/databases.js';
import type { Harness } from './harness.js';
import { createTestApp, type TestApp } from './node-app.js';
import { stripeControl } from './stripe.js';

/**
 * A database of the suite's own, for tests of jobs that work on every row (the payments job,
 * stale refunds): they never touch the rows of suites running in parallel, and theirs never show
 * up. On the PostgreSQL server when the run has one, else an in-memory PGlite.
 */
export async function ownDatabase(name: string): Promise<Database> {
  const server = process.env.TEST_DATABASE_URL;
  if (inject('nodeDatabaseUrl') && server) {
    return createPostgresDatabase(await recreateServerDatabase(server, name), { max: 10 });
  }
  const database = await createPgliteDatabase('memory://');
  await prepare(database);
  return database;
}

/** A Node app on its own database (above) and its own Stripe stand-in, with the journeys' harness. */
export async function isolatedApp(name: string): Promise<{ t: TestApp; h: Harness; close(): Promise<void> }> {
  const standIn = await startStripeStandIn();
  const t = await createTestApp({ database: await ownDatabase(name), env: { STRIPE_API_URL: standIn.url } });
  return {
    t,
    h: { ...t, stripe: stripeControl(standIn.url) },
    close: async () => {
      await t.close();
      await standIn.close();
    },
  };
}
