/**
 * The Node app on the real neon-http driver, through the local Neon endpoint in front of an
 * in-memory PGlite (migrated and seeded): what a Worker would send, countable per request.
 */
import { PGlite } from '@electric-sql/pglite';
import { LOCAL_NEON_CONNECTION_STRING, pgliteBackend, startLocalNeon, type LocalNeonServer } from '../../tools/local-neon/index.js';
import { createNeonDatabase } from '../../src/db/neon.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { prepare } from '../setup/databases.js';
import { createTestApp, type TestApp } from './node-app.js';

export interface NeonTestApp {
  t: TestApp;
  endpoint: LocalNeonServer;
  close(): Promise<void>;
}

/** Neon's real limits: no maxResponseBytes override. */
export async function createNeonTestApp(opts: { env?: Record<string, string> } = {}): Promise<NeonTestApp> {
  const pglite = await PGlite.create('memory://');
  await prepare(await createPgliteDatabase(pglite));
  const endpoint = await startLocalNeon({ backend: pgliteBackend(pglite), connectionString: LOCAL_NEON_CONNECTION_STRING });
  const database = createNeonDatabase(LOCAL_NEON_CONNECTION_STRING, { localEndpoint: endpoint.url });
  const t = await createTestApp({ database, ...(opts.env ? { env: opts.env } : {}) });
  return {
    t,
    endpoint,
    close: async () => {
      await t.close();
      await endpoint.close();
      await pglite.close();
    },
  };
}

/** Waits until no statement has reached the endpoint for a while: background work (runInBackground) has landed. */
async function quiet(endpoint: LocalNeonServer): Promise<void> {
  let last = -1;
  for (let still = 0; still < 3; ) {
    const s = endpoint.stats();
    const now = s.queries + s.batches;
    still = now === last ? still + 1 : 0;
    last = now;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Statements (and batches) one request sends, including those it starts in the background (waited for). */
export async function roundTripsOf<R extends { status: number; text?: string }>(endpoint: LocalNeonServer, call: () => Promise<R>, status: number): Promise<{ trips: number; res: R }> {
  await quiet(endpoint);
  endpoint.resetStats();
  const res = await call();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text ?? ''}`);
  await quiet(endpoint);
  const s = endpoint.stats();
  return { trips: s.queries + s.batches, res };
}
