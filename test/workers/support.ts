import { neon, neonConfig } from '@neondatabase/serverless';
import { SELF, createExecutionContext, env } from 'cloudflare:test';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import worker from '../../src/worker.js';
import { setUserDisabled } from '../../src/modules/auth/set-user-disabled.js';
import { setUserRole } from '../../src/modules/auth/set-user-role.js';
import { apiClient, type ClientOptions, type ValidationMode } from '../support/client.js';
import type { Harness } from '../support/harness.js';
import { stripeControl } from '../support/stripe.js';

interface TestEnv {
  JWT_SECRET: string;
  DATABASE_URL: string;
  NEON_LOCAL_ENDPOINT: string;
  TEST_DB_BACKEND: 'postgres' | 'pglite';
  STRIPE_API_URL: string;
  OPENAPI_VALIDATION: ValidationMode;
}
export const testEnv = env as unknown as TestEnv;

/** Responses are checked against /openapi.json inside workerd too; the mode comes from the binding. */
export const validation: ClientOptions = { validation: testEnv.OPENAPI_VALIDATION };

/** Direct SQL from inside workerd, through the same driver and endpoint the Worker uses. */
export const sqlDirect = () => {
  // The Worker sets this on its first request; a test may query before making one.
  neonConfig.fetchEndpoint = testEnv.NEON_LOCAL_ENDPOINT;
  return neon(testEnv.DATABASE_URL);
};

/** A drizzle statement of the app's, sent as the app would send it. */
async function runStatement(statement: SQL): Promise<void> {
  const query = new PgDialect().sqlToQuery(statement);
  await sqlDirect().query(query.sql, query.params);
}

/** The endpoint's counters: every POST is one database round trip. */
export async function roundTrips(): Promise<{ queries: number; batches: number }> {
  const res = await fetch(new URL('/__stats', testEnv.NEON_LOCAL_ENDPOINT));
  return (await res.json()) as { queries: number; batches: number };
}

export async function resetRoundTrips(): Promise<void> {
  await fetch(new URL('/__stats/reset', testEnv.NEON_LOCAL_ENDPOINT), { method: 'POST' });
}

export const workerHarness: Harness = {
  api: apiClient((request) => SELF.fetch(request), undefined, validation),
  jwtSecret: testEnv.JWT_SECRET,
  // The statements of src/modules/auth/set-user-role.ts and set-user-disabled.ts (what the CLI runs).
  setRole: async (email, role) => {
    await runStatement(setUserRole(email, role, new Date()));
  },
  setDisabled: async (email, disabled) => {
    await runStatement(setUserDisabled(email, disabled, new Date()));
  },
  stripe: stripeControl(testEnv.STRIPE_API_URL),
  sql: async <T>(query: string, params: unknown[] = []) => (await sqlDirect().query(query, params)) as T[],
};

/** Worker envs with another CURRENCY, one object per code (the Worker builds its app once per env object). */
const currencyEnvs = new Map<string, Record<string, unknown>>();

/**
 * The same Worker code, inside workerd, configured with `CURRENCY` = `code` (same database, same
 * Stripe stand-in): its fetch handler called with the test bindings plus that variable.
 */
export function workerHarnessIn(code: string): Harness {
  const envIn = currencyEnvs.get(code) ?? { ...(env as Record<string, unknown>), CURRENCY: code };
  currencyEnvs.set(code, envIn);
  const fetchIn = (request: Request) => Promise.resolve(worker.fetch(request, envIn as never, createExecutionContext() as never));
  return { ...workerHarness, api: apiClient(fetchIn, undefined, validation) };
}
