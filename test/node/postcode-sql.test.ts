/**
 * The SQL twin of the postcode rule (`postcodeKeys` in src/modules/scheduling/zone-match.ts) against the
 * domain's (src/domain/postcodes.ts), on PGlite always and on the PostgreSQL server when
 * TEST_DATABASE_URL is set: same keys for every case, so coverage, slots and addresses (SQL) agree
 * with booking (code).
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { postcodeKeys as domainKeys, prefixCovers } from '../../src/domain/postcodes.js';
import { postcodeKeys as sqlKeys } from '../../src/modules/scheduling/zone-match.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { COVER_CASES, KEY_CASES } from '../support/postcode-cases.js';

const databases: Array<[string, () => Promise<Database>]> = [['pglite', () => createPgliteDatabase('memory://')]];
if (process.env.TEST_DATABASE_URL) {
  const url = process.env.TEST_DATABASE_URL;
  databases.push(['postgresql', async () => createPostgresDatabase(url, { max: 1 })]);
}

const opened: Database[] = [];
afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
});

describe.each(databases)('postcode keys in SQL on %s', (_name, open) => {
  let database: Database | undefined;
  const db = async () => {
    if (!database) opened.push((database = await open()));
    return database;
  };
  const keysOf = async (postcode: string) => {
    const [row] = await (await db()).rows(z.object({ keys: z.union([z.array(z.string()), z.string()]) }), sql`SELECT array(${sqlKeys(postcode)}) AS keys`);
    const keys = row!.keys;
    // node-postgres parses text[]; be tolerant of a driver that hands back the literal.
    return typeof keys === 'string' ? keys.replace(/^\{|\}$/g, '').split(',').filter(Boolean) : keys;
  };

  it('gives the same keys as the domain for every case', async () => {
    const postcodes = [...new Set([...KEY_CASES.map(([p]) => p), ...COVER_CASES.map(([, p]) => p)])];
    for (const postcode of postcodes) {
      expect((await keysOf(postcode)).sort(), postcode).toEqual(domainKeys(postcode).sort());
    }
  });

  it('covers exactly what the domain covers', async () => {
    for (const [prefix, postcode, covered] of COVER_CASES) {
      const [row] = await (await db()).rows(
        z.object({ covered: z.boolean() }),
        sql`SELECT upper(regexp_replace(${prefix}, '[[:space:]]', '', 'g')) IN (${sqlKeys(postcode)}) AS covered`,
      );
      expect([prefix, postcode, row!.covered]).toEqual([prefix, postcode, covered]);
      expect(prefixCovers(prefix, postcode)).toBe(covered);
    }
  });
});
