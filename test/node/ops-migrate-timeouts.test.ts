/**
 * The migration runner's bounds (src/db/migrate.ts): lock_timeout and statement_timeout on the
 * migration session. On the PostgreSQL server, in a database of this file's own: another
 * connection holds a lock on a table a migration alters; the migrator fails within the
 * lock_timeout with a message naming it, instead of waiting (and queueing the API's queries on
 * that table behind its ALTER) for as long as the blocker lives; nothing of the run is applied.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { DEFAULT_MIGRATION_TIMEOUTS, migrateDatabase, MigrationTimeoutError, migrationTimeoutsFromEnv } from '../../src/db/migrate.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { migrateCommand } from '../../src/platform/node/commands.js';

const SERVER = process.env.TEST_DATABASE_URL;
const tmp = mkdtempSync(join(tmpdir(), 'laundry-migrations-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A migrations folder in drizzle-kit's layout (meta/_journal.json and one .sql per entry). */
function migrationsFolder(name: string, migrations: Array<[tag: string, statements: string[]]>): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'meta'), { recursive: true });
  const entries = migrations.map(([tag, statements], idx) => {
    writeFileSync(join(dir, `${tag}.sql`), statements.join('\n--> statement-breakpoint\n'));
    return { idx, version: '7', when: 1_700_000_000_000 + idx * 1000, tag, breakpoints: true };
  });
  writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }));
  return dir;
}

const BASE: Array<[string, string[]]> = [['0000_items', ['CREATE TABLE items (id int PRIMARY KEY)']]];
const ALTER: Array<[string, string[]]> = [
  ...BASE,
  // A statement that succeeds before the blocked one: it must not stay applied either.
  ['0001_alter', ['CREATE TABLE made_first (id int)', 'ALTER TABLE items ADD COLUMN note text']],
  ['0002_after', ['CREATE TABLE made_after (id int)']],
];
const SEEN = ['CREATE TABLE seen AS SELECT current_setting(\'lock_timeout\') AS lock_timeout, current_setting(\'statement_timeout\') AS statement_timeout'];

const Settings = z.object({ lock_timeout: z.string(), statement_timeout: z.string() });
const Count = z.object({ n: z.number() });
const Exists = z.object({ t: z.string().nullable() });

async function applied(database: Database): Promise<number> {
  return (await database.rows(Count, sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`))[0]!.n;
}
async function tableExists(database: Database, name: string): Promise<boolean> {
  return (await database.rows(Exists, sql`SELECT to_regclass(${name})::text AS t`))[0]!.t !== null;
}
async function sessionSettings(database: Database) {
  return (await database.rows(Settings, sql`SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout`))[0]!;
}
async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the migration to fail');
}

describe('migration timeouts: configuration', () => {
  it('MIGRATION_LOCK_TIMEOUT_MS and MIGRATION_STATEMENT_TIMEOUT_MS, defaulting to 5 s and 5 min', () => {
    expect(DEFAULT_MIGRATION_TIMEOUTS).toEqual({ lockTimeoutMs: 5000, statementTimeoutMs: 300_000 });
    expect(migrationTimeoutsFromEnv({})).toEqual(DEFAULT_MIGRATION_TIMEOUTS);
    expect(migrationTimeoutsFromEnv({ MIGRATION_LOCK_TIMEOUT_MS: '2000', MIGRATION_STATEMENT_TIMEOUT_MS: '0' })).toEqual({ lockTimeoutMs: 2000, statementTimeoutMs: 0 });
    const err = (() => {
      try {
        migrationTimeoutsFromEnv({ MIGRATION_LOCK_TIMEOUT_MS: '5s', MIGRATION_STATEMENT_TIMEOUT_MS: '-1' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems.map((p) => p.split(':')[0])).toEqual(['MIGRATION_LOCK_TIMEOUT_MS', 'MIGRATION_STATEMENT_TIMEOUT_MS']);
  });

  it('the Kubernetes migration Job outlasts one statement at the default bound, so the statement_timeout, not the Job deadline, stops a runaway', () => {
    const job = parseYaml(readFileSync('deploy/k8s/base/migrate-job.yaml', 'utf8')) as { spec: { activeDeadlineSeconds: number } };
    expect(job.spec.activeDeadlineSeconds * 1000).toBeGreaterThan(DEFAULT_MIGRATION_TIMEOUTS.statementTimeoutMs);
  });

  it('the migrate command refuses a bad value before touching the database', async () => {
    await expect(migrateCommand({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', MIGRATION_LOCK_TIMEOUT_MS: 'soon' })).rejects.toThrow(/MIGRATION_LOCK_TIMEOUT_MS/);
  });
});

describe('migration timeouts on PGlite (npm start, the CLI)', () => {
  it('the migration session runs with the bounds, and the session gets the defaults back after', async () => {
    const database = await createPgliteDatabase('memory://');
    try {
      const before = await sessionSettings(database);
      await migrateDatabase(database, { timeouts: { lockTimeoutMs: 1234, statementTimeoutMs: 56_789 }, migrationsFolder: migrationsFolder('pglite', [...BASE, ['0001_seen', SEEN]]) });
      expect((await database.rows(Settings, sql`SELECT * FROM seen`))[0]).toEqual({ lock_timeout: '1234ms', statement_timeout: '56789ms' });
      expect(await sessionSettings(database)).toEqual(before);
    } finally {
      await database.close();
    }
  }, 120_000); // PGlite's start on a loaded 2-core machine
});

describe.runIf(SERVER)('migration timeouts on PostgreSQL (node-postgres: npm run db:migrate, the Kubernetes Job)', () => {
  const name = `migrate_timeouts${process.env.TEST_DB_SUFFIX ?? ''}`;
  let url: string;
  let admin: pg.Client;
  let database: Database;
  let blocker: pg.Client;

  beforeAll(async () => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    admin = new pg.Client({ connectionString: SERVER });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(SERVER!);
    u.pathname = `/${name}`;
    url = u.toString();
    database = createPostgresDatabase(url, { max: 1 });
    await migrateDatabase(database, { migrationsFolder: migrationsFolder('base', BASE) });
    blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
  });
  afterAll(async () => {
    await blocker?.end().catch(() => {});
    await database?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.end();
  });

  it('a lock held by another session: fails within lock_timeout naming it, applies nothing; without a bound it would wait', async () => {
    // A long transaction that read the table (an analytics query, a stuck worker): ACCESS SHARE,
    // which ALTER TABLE's ACCESS EXCLUSIVE must wait for.
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE items IN ACCESS SHARE MODE');
    const folder = migrationsFolder('alter', ALTER);

    const started = performance.now();
    const err = await errorOf(migrateDatabase(database, { timeouts: { lockTimeoutMs: 300, statementTimeoutMs: 60_000 }, migrationsFolder: folder }));
    const elapsedMs = performance.now() - started;
    expect(err).toBeInstanceOf(MigrationTimeoutError);
    expect((err as MigrationTimeoutError).timeout).toBe('lock_timeout');
    expect(err.message).toMatch(/lock was not granted within lock_timeout 300 ms \(MIGRATION_LOCK_TIMEOUT_MS\)/);
    expect(err.message).toMatch(/Statement: ALTER TABLE items ADD COLUMN note text/);
    expect(err.message).toMatch(/Nothing from this run was applied/);
    // Returned while the blocker still holds its lock (generous: a loaded machine, not a race).
    expect(elapsedMs).toBeLessThan(20_000);
    const held = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction' AND query LIKE 'LOCK TABLE items%'`,
      [name],
    );
    expect(held.rows[0]!.n).toBe(1);

    // One transaction: the statement before the blocked one and the later migration are gone too.
    expect(await applied(database)).toBe(1);
    expect(await tableExists(database, 'made_first')).toBe(false);
    expect(await tableExists(database, 'made_after')).toBe(false);
    // The connection is reusable and back to the defaults.
    expect(await sessionSettings(database)).toEqual({ lock_timeout: '0', statement_timeout: '0' });

    // The control: unbounded, the same migration waits on the lock for as long as it is held…
    const unbounded = migrateDatabase(database, { timeouts: { lockTimeoutMs: 0, statementTimeoutMs: 0 }, migrationsFolder: folder });
    let waiting = 0;
    try {
      for (let i = 0; i < 300 && waiting === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const r = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%ALTER TABLE items ADD COLUMN note%'`,
          [name],
        );
        waiting = r.rows[0]!.n;
      }
    } finally {
      // …and completes once the blocker is gone.
      await blocker.query('ROLLBACK');
    }
    await unbounded;
    expect(waiting).toBe(1);
    expect(await applied(database)).toBe(3);
    expect(await tableExists(database, 'made_first')).toBe(true);
  });

  it('a statement that runs past statement_timeout stops the run, naming it; nothing applied', async () => {
    const folder = migrationsFolder('slow', [...ALTER, ['0003_slow', ['CREATE TABLE made_slow (id int)', 'SELECT pg_sleep(30)']]]);
    const err = await errorOf(migrateDatabase(database, { timeouts: { lockTimeoutMs: 5000, statementTimeoutMs: 500 }, migrationsFolder: folder }));
    expect(err).toBeInstanceOf(MigrationTimeoutError);
    expect(err.message).toMatch(/ran past statement_timeout 500 ms \(MIGRATION_STATEMENT_TIMEOUT_MS\)/);
    expect(err.message).toMatch(/Statement: SELECT pg_sleep\(30\)/);
    expect(await applied(database)).toBe(3);
    expect(await tableExists(database, 'made_slow')).toBe(false);
  });

  it('the migration session runs with the bounds (default 5 s / 5 min), and the pooled connection gets the defaults back', async () => {
    await migrateDatabase(database, { migrationsFolder: migrationsFolder('seen', [...ALTER, ['0003_seen', SEEN]]) });
    expect((await database.rows(Settings, sql`SELECT * FROM seen`))[0]).toEqual({ lock_timeout: '5s', statement_timeout: '5min' });
    expect(await sessionSettings(database)).toEqual({ lock_timeout: '0', statement_timeout: '0' });
  });

  it('node dist/src/node.js migrate (the Kubernetes Job) reads MIGRATION_LOCK_TIMEOUT_MS: the real migrations, then a lock on drizzle’s own table', async () => {
    const fresh = `${name}_cmd`;
    await admin.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${fresh}`);
    const u = new URL(url);
    u.pathname = `/${fresh}`;
    const env = { DATABASE_URL: u.toString(), MIGRATION_LOCK_TIMEOUT_MS: '300' };
    const other = new pg.Client({ connectionString: u.toString() });
    try {
      await migrateCommand(env);
      await other.connect();
      await other.query('BEGIN');
      await other.query('LOCK TABLE drizzle.__drizzle_migrations IN ACCESS EXCLUSIVE MODE');
      await expect(migrateCommand(env)).rejects.toThrow(/lock_timeout 300 ms \(MIGRATION_LOCK_TIMEOUT_MS\)/);
    } finally {
      await other.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
    }
  });
});

// Registered only without a server (so a run with one shows no skipped test): the PostgreSQL
// cases above are then absent, which CI (REQUIRE_SERVER_DB=1) must never accept.
if (!SERVER) {
  describe('migration timeouts on PostgreSQL: no server', () => {
    it('skips only outside CI (REQUIRE_SERVER_DB=1 needs TEST_DATABASE_URL)', () => {
      expect(process.env.REQUIRE_SERVER_DB, 'CI runs these cases on the PostgreSQL server').not.toBe('1');
    });
  });
}
