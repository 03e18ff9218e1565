import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import type { Deps } from '../../src/deps.js';
import { apiClient, expectProblem, uniqueEmail } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { refreshConcurrencyJourney } from '../journeys/refresh-concurrency.js';

/*
 * Concurrent refreshes against the PostgreSQL server (node-postgres, a pool of 20: real row
 * locks between real connections). The app's clock is injected and only moves forward. Each
 * refresh's statements are counted (AsyncLocalStorage per request), to see which path a race
 * takes: 1 statement (rotate, or a repeat that sees the committed rotation), 2 (the lock race:
 * the follow-up read).
 */
let t: TestApp;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let api: TestApp['api'];
const perRequest = new AsyncLocalStorage<{ statements: number }>();
/** Per test: how many refreshes took 1, 2, … statements. */
const paths = new Map<string, Map<number, number>>();

beforeAll(async () => {
  t = await createTestApp({ stripe: false });
  const counted: Database = {
    ...t.deps.database,
    rows: (schema, query) => {
      const store = perRequest.getStore();
      if (store) store.statements++;
      return t.deps.database.rows(schema, query);
    },
  };
  const app = createApp({ ...t.deps, database: counted, clock } satisfies Deps);
  api = apiClient(async (request) => {
    if (new URL(request.url).pathname !== '/v1/auth/refresh') return app.fetch(request);
    const store = { statements: 0 };
    const res = await perRequest.run(store, () => Promise.resolve(app.fetch(request)));
    // One statement, or two when it lost the row-lock race and read again.
    expect(store.statements).toBeGreaterThanOrEqual(1);
    expect(store.statements).toBeLessThanOrEqual(2);
    const name = expect.getState().currentTestName ?? '?';
    const histogram = paths.get(name) ?? new Map<number, number>();
    histogram.set(store.statements, (histogram.get(store.statements) ?? 0) + 1);
    paths.set(name, histogram);
    return res;
  });
});
afterAll(async () => {
  await t.close();
  // Which path each race took, for the record.
  const report = [...paths].map(([name, h]) => `${name}: ${[...h].sort().map(([n, count]) => `${count}×${n}`).join(' ')}`);
  process.stderr.write(`refresh statements per request (count×statements):\n  ${report.join('\n  ')}\n`);
});

refreshConcurrencyJourney(() => ({
  harness: { ...t, api },
  advance: async (_email, seconds) => {
    offsetMs += seconds * 1000;
  },
}));

describe('REFRESH_REUSE_GRACE_SECONDS=0', () => {
  it('turns the grace off: the first repeat is a replay and revokes the family', async () => {
    const strict = await createTestApp({ database: t.deps.database, stripe: false, env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
    try {
      const reg = await strict.api.post('/v1/auth/register', { email: uniqueEmail('no-grace'), password: 'no grace password' }, { headers: { 'x-forwarded-for': '198.51.100.77' } });
      expect(reg.status, reg.text).toBe(201);
      const rotated = await strict.api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken });
      expect(rotated.status, rotated.text).toBe(200);
      expectProblem(await strict.api.post('/v1/auth/refresh', { refreshToken: reg.body.refreshToken }), 401, 'refresh_token_reused');
      expectProblem(await strict.api.post('/v1/auth/refresh', { refreshToken: rotated.body.refreshToken }), 401, 'refresh_token_reused');
    } finally {
      await strict.deps.passwords.close?.();
    }
  });
});

describe('the row-lock race, made to happen', () => {
  it('a refresh that waited on another one\'s row lock reads again (a second statement) and answers the same successor', async () => {
    const url = inject('nodeDatabaseUrl');
    // PGlite has one connection: no two statements ever wait on each other's row lock there.
    if (!url) return expect(process.env.REQUIRE_SERVER_DB, 'CI runs this on the PostgreSQL server').toBeFalsy();
    const reg = await api.post('/v1/auth/register', { email: uniqueEmail('lock-race'), password: 'lock race password' }, { headers: { 'x-forwarded-for': '198.51.100.78' } });
    expect(reg.status, reg.text).toBe(201);
    const token: string = reg.body.refreshToken;
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      // Hold the token's row so both refreshes take their snapshot (token live, unrotated), then wait.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [await t.deps.sha256Hex(token)]);
      const both = Promise.all([api.post('/v1/auth/refresh', { refreshToken: token }), api.post('/v1/auth/refresh', { refreshToken: token })]);
      for (let waiting = 0; waiting < 2; ) {
        await new Promise((r) => setTimeout(r, 20));
        const { rows } = await locker.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        );
        waiting = rows[0]!.n;
      }
      await locker.query('COMMIT');
      const [a, b] = await both;
      expect([a.status, b.status], a.text + b.text).toEqual([200, 200]);
      expect(a.body.refreshToken).toBe(b.body.refreshToken);
      const name = expect.getState().currentTestName ?? '?';
      // One rotated (1 statement); the other found it rotated only after the lock: the follow-up read.
      expect(Object.fromEntries(paths.get(name) ?? [])).toEqual({ 1: 1, 2: 1 });
      expect((await api.post('/v1/auth/refresh', { refreshToken: a.body.refreshToken })).status).toBe(200);
    } finally {
      await locker.end();
    }
  });
});
