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
export async function createNeonTestApp(): Promise<NeonTestApp> {
  const pglite = await PGlite.create('memory://');
  await prepare(await createPgliteDatabase(pglite));
  const endpoint = await startLocalNeon({ backend: pgliteBackend(pglite), connectionString: LOCAL_NEON_CONNECTION_STRING });
  const database = createNeonDatabase(LOCAL_NEON_CONNECTION_STRING, { localEndpoint: endpoint.url });
  const t = await createTestApp({ database });
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
