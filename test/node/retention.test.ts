/**
 * Retention (src/modules/jobs/retention.ts) on a database of its own: idempotency keys go once
 * 24 h old, refresh tokens a day after they expired, nothing younger, at most a batch a run; and
 * both sweeps find their rows through the indexes of migration 0012, not a scan of the table.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/client.js';
import { IDEMPOTENCY_KEY_RETENTION_MS, REFRESH_TOKEN_RETENTION_AFTER_EXPIRY_MS, sweepRetention } from '../../src/modules/jobs/retention.js';
import { ownDatabase } from '../support/own-database.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const Id = z.object({ id: z.string() });
const Key = z.object({ key: z.string() });

let database: Database;
let userId: string;
const deps = () => ({ database, clock: { now: () => NOW } });

async function key(name: string, createdAt: string) {
  await database.rows(Key, sql`
    INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, created_at)
    VALUES (${userId}::uuid, ${name}, 'fp', 201, '{}'::json, ${createdAt}::timestamptz) RETURNING key`);
}
async function token(name: string, expiresAt: string) {
  await database.rows(Id, sql`
    INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
    VALUES (${randomUUID()}::uuid, ${userId}::uuid, ${randomUUID()}::uuid, ${name}, ${expiresAt}::timestamptz) RETURNING id::text`);
}
const keys = async () => (await database.rows(Key, sql`SELECT key FROM idempotency_keys ORDER BY key`)).map((r) => r.key);
const tokens = async () => (await database.rows(z.object({ token_hash: z.string() }), sql`SELECT token_hash FROM refresh_tokens ORDER BY token_hash`)).map((r) => r.token_hash);

beforeAll(async () => {
  database = await ownDatabase('laundry_test_retention');
  [{ id: userId }] = (await database.rows(Id, sql`
    INSERT INTO users (email, password_hash) VALUES ('retention@example.com', 'x') RETURNING id::text`)) as [{ id: string }];
});
afterAll(async () => {
  await database?.close();
});

describe('retention sweep', () => {
  it('removes idempotency keys past 24 h and refresh tokens a day past expiry, and nothing younger', async () => {
    await key('key-old', at(-IDEMPOTENCY_KEY_RETENTION_MS - HOUR));
    await key('key-just-under', at(-IDEMPOTENCY_KEY_RETENTION_MS + 60_000));
    await key('key-new', at(-HOUR));
    await token('token-long-expired', at(-REFRESH_TOKEN_RETENTION_AFTER_EXPIRY_MS - HOUR));
    await token('token-just-expired', at(-HOUR));
    await token('token-valid', at(30 * 24 * HOUR));

    expect(await sweepRetention(deps())).toEqual({ idempotencyKeys: 1, refreshRows: 1 });
    expect(await keys()).toEqual(['key-just-under', 'key-new']);
    expect(await tokens()).toEqual(['token-just-expired', 'token-valid']);
    // A second run finds nothing left to do.
    expect(await sweepRetention(deps())).toEqual({ idempotencyKeys: 0, refreshRows: 0 });
  });

  it('removes at most a batch per table per run; the backlog drains over runs', async () => {
    for (let i = 0; i < 5; i++) {
      await key(`backlog-${i}`, at(-3 * 24 * HOUR - i * 60_000));
      await token(`backlog-${i}`, at(-3 * 24 * HOUR - i * 60_000));
    }
    expect(await sweepRetention(deps(), 2)).toEqual({ idempotencyKeys: 2, refreshRows: 2 });
    expect(await sweepRetention(deps(), 2)).toEqual({ idempotencyKeys: 2, refreshRows: 2 });
    expect(await sweepRetention(deps(), 2)).toEqual({ idempotencyKeys: 1, refreshRows: 1 });
    expect((await keys()).filter((k) => k.startsWith('backlog'))).toEqual([]);
  });

  it('each sweep condition has its index (migration 0012): the column it ranges over, leading', async () => {
    const indexes = await database.rows(z.object({ indexname: z.string(), indexdef: z.string() }), sql`
      SELECT indexname, indexdef FROM pg_indexes
      WHERE indexname IN ('idempotency_keys_created_idx', 'refresh_tokens_expires_idx') ORDER BY indexname`);
    expect(indexes).toEqual([
      { indexname: 'idempotency_keys_created_idx', indexdef: expect.stringMatching(/ON public\.idempotency_keys USING btree \(created_at\)$/) },
      { indexname: 'refresh_tokens_expires_idx', indexdef: expect.stringMatching(/ON public\.refresh_tokens USING btree \(expires_at\)$/) },
    ]);
  });
});
