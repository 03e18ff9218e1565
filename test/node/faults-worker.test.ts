/**
 * Database faults on the Worker: the real Worker in workerd (wrangler's unstable_startWorker),
 * through the real neon-http driver, to the local Neon endpoint in front of a private
 * PostgreSQL cluster this suite owns. The endpoint's backend stopped → 503; frozen → 503
 * within the Worker's AbortSignal timeout; thawed or started again → served without a restart.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { unstable_startWorker } from 'wrangler';
import { LOCAL_NEON_CONNECTION_STRING, pgBackend, startLocalNeon, type LocalNeonServer } from '../../tools/local-neon/index.js';
import { apiClient, type ApiClient } from '../support/client.js';
import {
  FAULT_TIMEOUT_MS,
  describeFaults,
  eventually,
  expectDatabaseUnavailable,
  registerCustomer,
  createLaundryDatabase,
  unavailableInTime,
  whileFrozen,
  writeKilledInFlight,
} from '../support/faults.js';
import { startPrivateCluster, type PrivateCluster } from '../support/private-cluster.js';

type Worker = Awaited<ReturnType<typeof unstable_startWorker>>;

describeFaults('database faults: Worker on neon-http', () => {
  let cluster: PrivateCluster | undefined;
  let neon: LocalNeonServer | undefined;
  let worker: Worker | undefined;
  let api: ApiClient;
  let customer: { email: string; token: string };

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    await createLaundryDatabase(cluster);
    // The Worker sends Neon-style credentials; the endpoint checks them and serves the private cluster.
    neon = await startLocalNeon({ backend: pgBackend(cluster.url('laundry')), connectionString: LOCAL_NEON_CONNECTION_STRING });
    const vars = {
      APP_ENV: 'test',
      DATABASE_URL: LOCAL_NEON_CONNECTION_STRING,
      NEON_LOCAL_ENDPOINT: neon.url,
      DATABASE_TIMEOUT_MS: String(FAULT_TIMEOUT_MS),
      LOG_LEVEL: 'warn',
    };
    worker = await unstable_startWorker({
      config: resolve('wrangler.toml'),
      bindings: Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }])),
      dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, persist: false, logLevel: 'warn' },
    });
    await worker.ready;
    const url = String(await worker.url).replace(/\/$/, '');
    api = apiClient((request) => fetch(request), url);
    customer = await registerCustomer(api, 'worker-faults');
  }, 180_000);

  afterAll(async () => {
    try {
      await worker?.dispose();
      await neon?.close();
    } finally {
      cluster?.destroy(); // thaws and stops even when a case failed half-way
    }
  });

  const orders = () => api.get('/v1/orders', { token: customer.token });
  const serving = async () => (await orders()).status === 200;

  it('backend stopped: 503 database_unavailable within the timeout, /readyz 503; started again: 200', async () => {
    expect((await orders()).status).toBe(200);
    cluster!.stop();
    const ms = await unavailableInTime(orders);
    console.info(`faults (worker, stopped): 503 after ${Math.round(ms)} ms`);
    expectDatabaseUnavailable(await api.post('/v1/auth/register', { email: 'worker-down@example.test', password: 'fault suite password' }));
    expect((await api.get('/readyz')).status).toBe(503);
    await cluster!.start();
    expect(await eventually(serving)).toBe(true);
    expect((await api.get('/readyz')).status).toBe(200);
  }, 90_000);

  it('backend frozen: 503 within the AbortSignal timeout; thawed: recovery', async () => {
    expect((await orders()).status).toBe(200);
    await whileFrozen(cluster!, async () => {
      const ms = await unavailableInTime(orders);
      expect(ms).toBeGreaterThanOrEqual(FAULT_TIMEOUT_MS - 100); // it waited for the signal, not for a refusal
      console.info(`faults (worker, frozen): 503 after ${Math.round(ms)} ms`);
    });
    expect(await eventually(serving)).toBe(true);
  }, 90_000);

  it('a write killed in flight: each account exists whole (user and refresh token) or not at all', async () => {
    // workerd hashes all ten, then sends their writes together: stop when the first reaches the endpoint.
    const before = neon!.stats().requests;
    const writing = async () => {
      while (neon!.stats().requests === before) await new Promise((r) => setTimeout(r, 2));
    };
    await writeKilledInFlight(api, cluster!, 'worker', writing);
    expect(await eventually(serving)).toBe(true);
  }, 90_000);
});
