/**
 * The one-shot commands of the Node entry (`node dist/src/node.js <command>`), for the
 * Kubernetes Jobs: the image has no dev tools. Node-only: dispatched by src/node.ts.
 */
import { hostname } from 'node:os';
import { loadConfig, type Config } from '../../config.js';
import type { Database } from '../../db/client.js';
import { migrateDatabase, migrationTimeoutsFromEnv } from '../../db/migrate.js';
import { createPostgresDatabase } from '../../db/node-postgres.js';
import { runPaymentJobsExclusive, type ExclusiveJobRun } from '../../modules/payments/exclusive.js';
import { createNotificationClients } from '../../notifications/clients.js';
import { createNodeDeps, openDatabase } from './deps.js';

/** A one-shot command on the server database (DATABASE_URL is required; `session`: node-postgres even for Neon). */
async function withServerDatabase<T>(env: NodeJS.ProcessEnv, what: string, session: boolean, work: (config: Config, database: Database) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  if (!config.databaseUrl) throw new Error(`DATABASE_URL: is required to ${what}`);
  const database = session ? createPostgresDatabase(config.databaseUrl, { max: 1 }) : await openDatabase(config);
  try {
    return await work(config, database);
  } finally {
    await database.close();
  }
}

/**
 * `node dist/src/node.js migrate`: applies pending migrations to DATABASE_URL over TCP and
 * exits (the Kubernetes migration Job runs this; the image has no dev tools). Bounded by
 * MIGRATION_LOCK_TIMEOUT_MS (default 5 s) and MIGRATION_STATEMENT_TIMEOUT_MS (default 5 min):
 * past either it rejects with MigrationTimeoutError and nothing is applied.
 */
export async function migrateCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const timeouts = migrationTimeoutsFromEnv(env);
  return withServerDatabase(env, 'migrate', true, async (_config, database) => {
    await migrateDatabase(database, { timeouts });
    console.log(`migrations applied (lock_timeout ${timeouts.lockTimeoutMs} ms, statement_timeout ${timeouts.statementTimeoutMs} ms)`);
  });
}

/**
 * `node dist/src/node.js payments-job`: one run of the payments housekeeping, for the
 * Kubernetes CronJob (one run per schedule for the deployment, not a timer in every pod), under
 * the `payments-job` lease (runPaymentJobsExclusive): when another runner (the Worker's cron, a
 * Node timer, the CLI, a Job started by hand) holds it, the run is skipped and exits 0, since
 * nothing failed. Exits 1 when the run threw or could not ask Stripe, so the failed Job shows in
 * `kubectl get jobs`. The holder id names the pod (HOSTNAME is the pod name in Kubernetes).
 */
export function paymentsJobCommand(env: NodeJS.ProcessEnv = process.env): Promise<ExclusiveJobRun> {
  return withServerDatabase(env, 'run the payments job', false, async (config, database) => {
    const deps = createNodeDeps(config, { database });
    // The notification sweep (src/notifications/sweep.ts) fans out and sends what the
    // notifications worker left behind, through the same clients.
    deps.notifications = createNotificationClients(config, { fetch: (input, init) => fetch(input, init), logger: deps.logger, now: () => deps.clock.now() });
    const run = await runPaymentJobsExclusive(deps, { runner: `node:${hostname()}:job` });
    if (run.outcome === 'ran' && run.failure) throw new Error(`payments job: ${run.failure}`);
    return run;
  });
}
