/**
 * The real drivers' failures, classified: neon-http against an endpoint that hangs or answers
 * 5xx (the per-request AbortSignal must fire, and be fresh on every request), and PGlite's
 * own errors. The app-level answers (503/422) come from the same classification.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AnyRow } from '../../src/db/client.js';
import { classifyDatabaseError } from '../../src/db/errors.js';
import { createNeonDatabase } from '../../src/db/neon.js';
import { users } from '../../src/db/schema.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';

/** A stand-in for Neon's SQL endpoint whose next answers the test picks: hang, an HTTP status, or a one-row result. */
let mode: 'hang' | 'ok' | number = 'ok';
let requests = 0;
const server = http.createServer((req, res) => {
  requests++;
  req.resume();
  if (mode === 'hang') return; // never answers
  if (typeof mode === 'number') {
    res.writeHead(mode, { 'content-type': 'text/plain' }).end('upstream failure');
    return;
  }
  const one = { fields: [{ name: 'n', dataTypeID: 23 }], command: 'SELECT', rowCount: 1, rows: [['1']] };
  let body = '';
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body.includes('"queries"') ? { results: [one, one] } : one));
  });
  req.on('data', (c: Buffer) => (body += c.toString()));
});
let endpoint = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const TIMEOUT = 300;
const neonDb = () => createNeonDatabase('postgres://app:app@db.localtest:5432/laundry', { localEndpoint: endpoint, timeoutMs: TIMEOUT });

describe('neon-http with DATABASE_TIMEOUT_MS', () => {
  it('a hanging endpoint: the query is aborted after the timeout and classified unavailable', async () => {
    const database = neonDb();
    mode = 'hang';
    const started = performance.now();
    const err = await database.rows(AnyRow, sql`SELECT 1 AS n`).then(() => undefined, (e: unknown) => e);
    const took = performance.now() - started;
    expect(err).toBeDefined();
    expect(took).toBeGreaterThanOrEqual(TIMEOUT - 50);
    expect(took).toBeLessThan(TIMEOUT + 5000);
    expect(classifyDatabaseError(err)).toMatchObject({ kind: 'unavailable', reason: 'timeout' });
  });

  it('a batch is bounded too', async () => {
    const database = neonDb();
    mode = 'hang';
    const err = await database.batch((db) => [db.select().from(users).limit(1), db.select().from(users).limit(1)]).then(() => undefined, (e: unknown) => e);
    expect(classifyDatabaseError(err)).toMatchObject({ kind: 'unavailable', reason: 'timeout' });
  });

  it('the signal is per request: a query made long after the client was created still gets its full time', async () => {
    const database = neonDb();
    await new Promise((r) => setTimeout(r, TIMEOUT * 2)); // a signal made at creation would have expired by now
    mode = 'ok';
    expect(await database.rows(z.object({ n: z.number() }), sql`SELECT 1 AS n`)).toEqual([{ n: 1 }]);
    const before = requests;
    await database.batch((db) => [db.execute(sql`SELECT 1 AS n`), db.execute(sql`SELECT 1 AS n`)]);
    expect(requests).toBe(before + 1);
  });

  it('HTTP 507 (response too large) is not unavailable: retrying cannot fix it', async () => {
    mode = 507;
    const err = await neonDb().rows(AnyRow, sql`SELECT 1 AS n`).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(classifyDatabaseError(err)).toBeUndefined();
  });

  for (const status of [500, 502, 503]) {
    it(`HTTP ${status} from the endpoint is unavailable`, async () => {
      mode = status;
      const err = await neonDb().rows(AnyRow, sql`SELECT 1 AS n`).then(() => undefined, (e: unknown) => e);
      expect(classifyDatabaseError(err)).toMatchObject({ kind: 'unavailable' });
    });
  }

  it('an endpoint that refuses connections is unavailable', async () => {
    const database = createNeonDatabase('postgres://app:app@db.localtest:5432/laundry', { localEndpoint: 'http://127.0.0.1:1/sql', timeoutMs: TIMEOUT });
    const err = await database.rows(AnyRow, sql`SELECT 1`).then(() => undefined, (e: unknown) => e);
    expect(classifyDatabaseError(err)).toMatchObject({ kind: 'unavailable' });
  });
});

describe('PGlite', () => {
  it('a NUL in text is 22021 bad input; a closed database is unavailable', async () => {
    const database = await createPgliteDatabase('memory://');
    const nul = await database.rows(AnyRow, sql`SELECT ${'a\u0000b'}::text AS t`).then(() => undefined, (e: unknown) => e);
    expect(classifyDatabaseError(nul)).toMatchObject({ kind: 'bad_input', reason: '22021' });
    await database.close();
    const closed = await database.rows(AnyRow, sql`SELECT 1`).then(() => undefined, (e: unknown) => e);
    expect(classifyDatabaseError(closed)).toMatchObject({ kind: 'unavailable' });
  });
});
