/**
 * Fresh, migrated, seeded databases for a test run. With TEST_DATABASE_URL set they live
 * on that PostgreSQL server (one database per suite, recreated each run, so suites never
 * share rows); without it, in an in-memory PGlite.
 */
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { seedCatalog } from '../../src/db/seed.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';

/** `<baseName><TEST_DB_SUFFIX>`: TEST_DB_SUFFIX lets two runs share one server without dropping each other's databases. */
function suffixedName(baseName: string): string {
  const name = `${baseName}${process.env.TEST_DB_SUFFIX ?? ''}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  return name;
}

/** Runs statements on the server's maintenance connection, one after the other. */
async function onServer(serverUrl: string, statements: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (const statement of statements) await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/**
 * Drops and creates `<baseName><TEST_DB_SUFFIX>` on the server, empty (no migrations); returns
 * its URL. For tests that run the migration command themselves.
 */
export async function emptyServerDatabase(serverUrl: string, baseName: string): Promise<string> {
  const name = suffixedName(baseName);
  await onServer(serverUrl, [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name}`]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops `<baseName><TEST_DB_SUFFIX>` from the server if it exists. */
export async function dropServerDatabase(serverUrl: string, baseName: string): Promise<void> {
  await onServer(serverUrl, [`DROP DATABASE IF EXISTS ${suffixedName(baseName)} WITH (FORCE)`]);
}

/** `emptyServerDatabase`, then migrated and seeded; returns its URL. */
export async function recreateServerDatabase(serverUrl: string, baseName: string): Promise<string> {
  const url = await emptyServerDatabase(serverUrl, baseName);
  const database = createPostgresDatabase(url, { max: 1 });
  try {
    await prepare(database);
  } finally {
    await database.close();
  }
  return url;
}

export async function prepare(database: Database): Promise<void> {
  await migrateDatabase(database);
  await seedCatalog(database, loadConfig({ APP_ENV: 'test' }).currency);
}
