/**
 * The embedded PGlite driver (no DATABASE_URL on Node: `npm start`, the CLI and tests). Node-only:
 * wired by src/platform/node/deps.ts and the Node tools, never imported by the app or the Worker.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { Database, Db } from './client.js';
import { lockFolder } from './pglite-lock.js';
import * as schema from './schema.js';
import { sessionDatabase } from './session.js';

/**
 * `source` is a folder, `memory://` for a throwaway database, or an open PGlite that
 * someone else owns (it is then not closed here).
 */
export async function createPgliteDatabase(source: string | PGlite): Promise<Database> {
  // PGlite is single-process: a folder is locked for as long as it is open (src/db/pglite-lock.ts).
  const folder = typeof source === 'string' && !source.startsWith('memory://') ? source : undefined;
  if (folder) mkdirSync(dirname(resolve(folder)), { recursive: true });
  const release = folder ? lockFolder(folder) : undefined;
  let client: PGlite;
  try {
    if (folder) mkdirSync(folder, { recursive: true });
    client = typeof source === 'string' ? await PGlite.create(source) : source;
  } catch (err) {
    release?.();
    throw err;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return sessionDatabase('pglite', db, async () => {
    if (typeof source !== 'string') return;
    try {
      await client.close();
    } finally {
      release?.();
    }
  });
}
