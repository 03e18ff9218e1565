/**
 * The Database contract every driver must keep: a batch is all-or-nothing, and the
 * single-statement writes hold under concurrency on the PostgreSQL server.
 */
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { services, users } from '../../src/db/schema.js';
import { uniqueEmail } from '../support/client.js';
import { createTestApp, openTestDatabase, type TestApp } from '../support/node-app.js';

let database: Database;
let t: TestApp;
beforeAll(async () => {
  database = await openTestDatabase();
  t = await createTestApp({ database });
});
afterAll(async () => {
  await t.close();
});

describe('database contract', () => {
  it('runs on the PostgreSQL server whenever TEST_DATABASE_URL is set (CI requires it)', () => {
    const expected = process.env.TEST_DATABASE_URL ? 'node-postgres' : 'pglite';
    expect(database.kind).toBe(expected);
    if (process.env.REQUIRE_SERVER_DB === '1') expect(database.kind).toBe('node-postgres');
  });

  it('rolls a failing batch back completely', async () => {
    const email = uniqueEmail('batch');
    await expect(
      database.batch((db) => [
        db.insert(users).values({ email, passwordHash: 'x' }),
        db.execute(sql`SELECT 1 / 0`),
      ]),
    ).rejects.toThrow();
    expect(await database.db.select().from(users).where(eq(users.email, email))).toEqual([]);
  });

  it('returns each statement’s result from a batch, in order', async () => {
    const email = uniqueEmail('batch-ok');
    const [inserted, selected] = await database.batch((db) => [
      db.insert(users).values({ email, passwordHash: 'x' }).returning({ id: users.id }),
      db.select({ n: sql<number>`count(*)::int` }).from(services),
    ]);
    expect(inserted[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(selected[0]?.n).toBeGreaterThan(0);
  });
});

describe('concurrency (run against the PostgreSQL server in CI)', () => {
  it('20 concurrent registrations of one email create exactly one account', async () => {
    const email = uniqueEmail('race');
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => t.api.post('/v1/auth/register', { email, password: 'race password' })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const rows = await database.db.select().from(users).where(eq(users.email, email));
    expect(rows).toHaveLength(1);
  });

  it('10 concurrent refreshes with one token all get the same successor, and only one is written', async () => {
    const email = uniqueEmail('refresh-race');
    const reg = await t.api.post('/v1/auth/register', { email, password: 'race password' });
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => t.api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken })),
    );
    // Within REFRESH_REUSE_GRACE_SECONDS a repeat is answered with the successor the first one wrote.
    for (const r of replies) expect(r.status, r.text).toBe(200);
    expect(new Set(replies.map((r) => r.body.refreshToken)).size).toBe(1);
    const tokens = await database.rows(z.object({ live: z.number(), revoked: z.number() }), sql`
      SELECT count(*) FILTER (WHERE t.revoked_at IS NULL)::int AS live, count(*) FILTER (WHERE t.revoked_at IS NOT NULL)::int AS revoked
      FROM refresh_tokens t JOIN users u ON u.id = t.user_id
      WHERE u.email = ${email}`);
    // The registration's token, rotated once; its successor, live.
    expect(tokens[0]).toEqual({ live: 1, revoked: 1 });
  });
});
