/**
 * Operator commands. Usage:
 *   npm run cli -- create-user --role admin|staff|customer --email a@b.c --password '…' [--name 'Ada']
 *   npm run cli -- set-role --email a@b.c --role staff
 *   npm run cli -- disable-user --email a@b.c      (enable-user to undo)
 *   npm run cli -- seed
 *   npm run cli -- synthetic-setup --email probe@example.com --password '…'   (release probes' customer)
 * Uses DATABASE_URL (node-postgres), or the embedded PGlite in .data/ when unset. The embedded
 * database takes one process at a time: while `npm start` runs on it, the CLI refuses (naming
 * the server's pid) instead of writing into a copy the server would never see.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createPasswordHasher } from '../src/auth/password.js';
import { users, userRole, type UserRole } from '../src/db/schema.js';
import { seedCatalog } from '../src/db/seed.js';
import { runPaymentJobsExclusive } from '../src/modules/payments/exclusive.js';
import { loadArgon2idKernel } from '../src/auth/argon2-node.mjs';
import { createNodeDeps } from '../src/platform/node/deps.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { setUserDisabled } from '../src/modules/auth/set-user-disabled.js';
import { setUserRole } from '../src/modules/auth/set-user-role.js';
import { Email, NewPassword } from '../src/modules/auth/schemas.js';
import { FolderLockedError } from '../src/db/pglite-lock.js';
import { openOperatorDatabase } from './db.js';
import { setupSyntheticCustomer, SyntheticSetupError } from '../src/db/synthetic-setup.js';

const USAGE = `usage:
  npm run cli -- create-user --role admin|staff|customer --email EMAIL --password PASSWORD [--name NAME]
  npm run cli -- set-role --email EMAIL --role admin|staff|customer   (signs the user out everywhere)
  npm run cli -- disable-user --email EMAIL   (refuses login, refresh and staff/admin routes at once; signs out)
  npm run cli -- enable-user --email EMAIL
  npm run cli -- seed
  npm run cli -- payments-job      (hold expiry, unpaid deliveries, Stripe reconciliation, unless another runner holds the lease; prints a JSON report)
  npm run cli -- synthetic-setup --email EMAIL --password PASSWORD
                                   (release probes: synthetic zone QQ9, its slots for 14 days, the synthetic customer
                                    and its one address; idempotent, tops up slots; prints a JSON summary)`;

class UsageError extends Error {}

/** Throws rather than exits, so the database is always closed (PGlite must flush to disk). */
function fail(message: string): never {
  throw new UsageError(message);
}

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: { role: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
  strict: true,
});

function parseRole(value: string | undefined): UserRole {
  if (!value || !(userRole.enumValues as readonly string[]).includes(value)) {
    fail(`--role must be one of ${userRole.enumValues.join(', ')}`);
  }
  return value as UserRole;
}

function parseEmail(value: string | undefined): string {
  const parsed = Email.safeParse(value);
  if (!parsed.success) fail('--email must be a valid email address');
  return parsed.data;
}

if (!command || !['create-user', 'set-role', 'disable-user', 'enable-user', 'seed', 'payments-job', 'synthetic-setup'].includes(command)) {
  console.error(`error: unknown command: ${command ?? '(none)'}\n\n${USAGE}`);
  process.exit(2);
}

const { config, database } = await openOperatorDatabase().catch((err: unknown) => {
  if (!(err instanceof FolderLockedError)) throw err;
  // The embedded database takes one process at a time, and `npm start` holds it while it runs.
  console.error(
    `error: ${err.message}\n\nThe CLI works on the same embedded database as \`npm start\`: stop the server (Ctrl-C), run\n` +
      `  npm run cli -- ${process.argv.slice(2, 3).join(' ')} …\nthen start the server again; what the CLI wrote is there. ` +
      'With DATABASE_URL (PostgreSQL) the CLI and the server run side by side.',
  );
  process.exit(1);
});
try {
  if (database.kind === 'pglite') await migrateDatabase(database);
  if (command === 'payments-job') {
    const deps = createNodeDeps(config, { database });
    // Under the same lease as the Worker's cron, the CronJob and the Node timer: prints
    // {outcome: "ran", report} or, while another runner holds it, {outcome: "skipped", heldBy, until}.
    const run = await runPaymentJobsExclusive(deps, { runner: `cli:${hostname()}:${process.pid}` });
    console.log(JSON.stringify(run, null, 2));
  } else if (command === 'synthetic-setup') {
    const email = parseEmail(values.email);
    const password = NewPassword.safeParse(values.password);
    if (!password.success) fail(`--password ${password.error.issues[0]?.message ?? 'is invalid'}`);
    const deps = createNodeDeps(config, { database });
    try {
      console.log(JSON.stringify(await setupSyntheticCustomer(deps, { email, password: password.data }), null, 2));
    } catch (err) {
      if (err instanceof SyntheticSetupError) fail(err.message);
      throw err;
    } finally {
      await deps.passwords.close?.();
    }
  } else if (command === 'seed') {
    await seedCatalog(database, config.currency);
    console.log('default catalog seeded');
  } else if (command === 'create-user') {
    const role = parseRole(values.role);
    const email = parseEmail(values.email);
    const password = NewPassword.safeParse(values.password);
    if (!password.success) fail(`--password ${password.error.issues[0]?.message ?? 'is invalid'}`);
    const passwordHash = await createPasswordHasher(loadArgon2idKernel).hash(password.data);
    const inserted = await database.db
      .insert(users)
      .values({ email, passwordHash, role, name: values.name ?? null })
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id });
    if (!inserted[0]) fail(`a user with email ${email} already exists (use set-role to change its role)`);
    console.log(`created ${role} ${email} (${inserted[0].id})`);
  } else if (command === 'set-role') {
    const role = parseRole(values.role);
    const email = parseEmail(values.email);
    const updated = await database.rows(z.object({ id: z.string() }), setUserRole(email, role, new Date()));
    if (!updated[0]) fail(`no user with email ${email}`);
    console.log(`${email} is now ${role}; their sessions are revoked`);
  } else {
    const email = parseEmail(values.email);
    const disable = command === 'disable-user';
    const updated = await database.rows(z.object({ id: z.string() }), setUserDisabled(email, disable, new Date()));
    if (!updated[0]) fail(`no user with email ${email}`);
    console.log(disable ? `${email} is disabled; their sessions are revoked` : `${email} is enabled`);
  }
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`error: ${err.message}\n\n${USAGE}`);
  process.exitCode = 2;
} finally {
  await database.close();
}
