import { PGlite } from '@electric-sql/pglite';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';
import { LOCAL_NEON_CONNECTION_STRING, pgBackend, pgliteBackend, startLocalNeon } from './tools/local-neon/index.js';
import { startStripeStandIn } from './tools/stripe-stand-in/index.js';
import { startJwksStandIn } from './test/support/stand-ins/jwks.js';
import { notifyBindings, startNotifyControl } from './test/support/stand-ins/notify-control.js';
import { startNotifyStandIns } from './test/support/stand-ins/notify-stand-ins.js';
import { stripeEnv } from './test/support/stripe.js';
import { createPgliteDatabase } from './src/db/pglite.js';
import { prepare, recreateServerDatabase } from './test/setup/databases.js';
import { TEST_JWT_SECRET } from './test/support/harness.js';
import { buildWorkerSources } from './tools/worker-bundle/build.js';

/*
 * The Worker runs inside workerd with the real neon-http driver. Its SQL goes to the
 * local Neon-compatible endpoint, started here in the config itself (a value provided by
 * globalSetup arrives too late for Miniflare bindings), in front of its own database on
 * the PostgreSQL server (TEST_DATABASE_URL) or, without one, an in-memory PGlite.
 */
async function startDatabaseEndpoint() {
  const server = process.env.TEST_DATABASE_URL;
  if (process.env.REQUIRE_SERVER_DB === '1' && !server) {
    throw new Error('REQUIRE_SERVER_DB=1 but TEST_DATABASE_URL is unset: the Workers suite would not touch PostgreSQL');
  }
  if (server) {
    const url = await recreateServerDatabase(server, 'laundry_test_workers');
    const db = pgBackend(url, { max: 20 });
    const endpoint = await startLocalNeon({ backend: db, connectionString: LOCAL_NEON_CONNECTION_STRING, unref: true });
    return { backend: 'postgres' as const, endpoint, close: () => db.close() };
  }
  const pglite = await PGlite.create('memory://');
  await prepare(await createPgliteDatabase(pglite));
  const endpoint = await startLocalNeon({ backend: pgliteBackend(pglite), connectionString: LOCAL_NEON_CONNECTION_STRING, unref: true });
  return { backend: 'pglite' as const, endpoint, close: () => pglite.close() };
}

// wrangler.toml's Static Assets folder (the /docs files and the prebuilt /openapi.json) comes from
// the Worker's [build] step, which this pool does not run: built here (kept when its inputs are
// unchanged), so the folder exists and its openapi.json is never older than src/.
await buildWorkerSources();
const { backend, endpoint, close } = await startDatabaseEndpoint();
const stripe = await startStripeStandIn({ unref: true });
// Apple's and Google's key sets for test/workers/oauth.test.ts, which signs its tokens through them.
const jwks = { apple: await startJwksStandIn('apple'), google: await startJwksStandIn('google') };
// Google's token endpoint, FCM, Twilio and Resend for test/workers/notify-channels-workerd.test.ts,
// which builds the real channel clients from them and drives them over the control server.
const notify = await startNotifyStandIns();
const notifyControl = await startNotifyControl(notify);
// test/setup/workers-global.ts stops these when the run ends (it runs in this process).
(globalThis as { __stopWorkersDatabase?: () => Promise<void> }).__stopWorkersDatabase = async () => {
  await endpoint.close();
  await close();
  await stripe.close();
  await jwks.apple.close();
  await jwks.google.close();
  await notifyControl.close();
  await notify.close();
};

export default defineProject({
  plugins: [
    cloudflareTest({
      main: './src/worker.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          APP_ENV: 'test',
          JWT_SECRET: TEST_JWT_SECRET,
          // The endpoint checks its user, password and database, as Neon does; it serves one fixed database.
          DATABASE_URL: LOCAL_NEON_CONNECTION_STRING,
          NEON_LOCAL_ENDPOINT: endpoint.url,
          TEST_DB_BACKEND: backend,
          LOG_LEVEL: 'warn',
          // test/support/client.ts: strict (default), report (violations printed as OPENAPI_VIOLATION lines) or off.
          OPENAPI_VALIDATION: process.env.OPENAPI_VALIDATION ?? 'strict',
          ...stripeEnv(stripe.url),
          // Not APPLE_/GOOGLE_JWKS_URL: the shared harness runs unconfigured (503 provider_not_configured).
          TEST_APPLE_JWKS_URL: jwks.apple.url,
          TEST_GOOGLE_JWKS_URL: jwks.google.url,
          // Not FCM_/TWILIO_/RESEND_: the shared harness sends no notifications (every channel unconfigured).
          ...notifyBindings(notify, notifyControl),
        },
      },
    }),
  ],
  test: {
    name: 'workers',
    include: ['test/workers/**/*.test.ts'],
    globalSetup: ['test/setup/workers-global.ts'],
    // Round-trip assertions read the endpoint's global counters: one file at a time.
    fileParallelism: false,
    // The Worker's console goes straight to workerd's output, not through vitest's console RPC: a
    // line logged from another I/O context (the queue consumer, a waitUntil task) is held until the
    // runner's next message, and when it comes after a file's last task update vitest waits for its
    // answer for good, the mid-run stall of cloudflare/workers-sdk#15498 (mechanism and fix:
    // cloudflare/workers-sdk#15565, #15719, open). The cost: those lines lose vitest's
    // `stdout | file > test` heading. Tests that read log lines spy on `console` itself.
    disableConsoleIntercept: true,
    // A backstop against hangs, not a speed check (speed lives in `npm run bench`): on a loaded
    // 2-core CI box one long payments journey took 28.6 s in one run and 30.3 s in the next.
    testTimeout: 120_000,
  },
});
