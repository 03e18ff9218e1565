import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import type { Deps } from '../../src/deps.js';
import { apiClient } from '../support/client.js';
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
    const name = expect.getState().currentTestName ?? '?';
    const histogram = paths.get(name) ?? new Map<number, number>();
    histogram.set(store.statements, (histogram.get(store.statements) ?? 0) + 1);
    paths.set(name, histogram);
    return res;
  });
});
afterAll(async () => {
  await t.close();
});

refreshConcurrencyJourney(() => ({
  harness: { ...t, api },
  advance: async (_email, seconds) => {
    offsetMs += seconds * 1000;
  },
}));

describe('refresh paths', () => {
  it('every refresh above took one statement, or two on the lock race', () => {
    const report = [...paths].map(([name, h]) => `${name}: ${[...h].sort().map(([n, count]) => `${count}×${n}`).join(' ')}`);
    process.stderr.write(`refresh statements per request (count×statements):\n  ${report.join('\n  ')}\n`);
    expect(paths.size).toBeGreaterThan(0);
    for (const h of paths.values()) for (const n of h.keys()) expect([1, 2]).toContain(n);
  });
});
