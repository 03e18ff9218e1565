/**
 * The Worker as deployed: wrangler.toml's `[build]` (the copy of src/ without documentation
 * strings, /openapi.json prebuilt into the Static Assets) and `[alias]` stubs (zod's JSON Schema
 * output among them), run in workerd by wrangler's unstable_startWorker, through the real
 * neon-http driver to a local Neon endpoint on PGlite. The Vitest Workers pool bundles src/
 * itself and applies neither, so this is where the deployed build is checked against the Node app:
 * the same /openapi.json bytes, and, for every operation, the same answer to requests that fail
 * validation (status, problem code, the fields named), with and without a customer's token.
 */
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { unstable_startWorker } from 'wrangler';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { LOCAL_NEON_CONNECTION_STRING, pgliteBackend, startLocalNeon, type LocalNeonServer } from '../../tools/local-neon/index.js';
import { prepare } from '../setup/databases.js';
import { apiClient, type ApiClient, type ApiResponse } from '../support/client.js';
import { registerCustomer } from '../support/faults.js';
import { TEST_JWT_SECRET } from '../support/harness.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { operations } from '../support/openapi-walk.js';

type Worker = Awaited<ReturnType<typeof unstable_startWorker>>;
let pglite: PGlite | undefined;
let neon: LocalNeonServer | undefined;
let worker: Worker | undefined;
let node: TestApp | undefined;
let workerApi: ApiClient;
let workerUrl: string;

beforeAll(async () => {
  pglite = await PGlite.create('memory://');
  await prepare(await createPgliteDatabase(pglite));
  neon = await startLocalNeon({ backend: pgliteBackend(pglite), connectionString: LOCAL_NEON_CONNECTION_STRING });
  const vars = { APP_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: LOCAL_NEON_CONNECTION_STRING, NEON_LOCAL_ENDPOINT: neon.url, LOG_LEVEL: 'warn' };
  worker = await unstable_startWorker({
    config: resolve('wrangler.toml'),
    bindings: Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }])),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, persist: false, logLevel: 'warn' },
  });
  await worker.ready;
  workerUrl = String(await worker.url).replace(/\/$/, '');
  workerApi = apiClient((request) => fetch(request), workerUrl);
  node = await createTestApp({ stripe: false });
}, 240_000);

afterAll(async () => {
  await worker?.dispose();
  await node?.close();
  await neon?.close();
  await pglite?.close();
});

it('serves /openapi.json byte for byte as Node does', async () => {
  const fromWorker = await fetch(`${workerUrl}/openapi.json`);
  const fromNode = await node!.app.request('/openapi.json');
  expect(fromWorker.status).toBe(200);
  expect(fromWorker.headers.get('content-type')).toBe(fromNode.headers.get('content-type'));
  expect(fromWorker.headers.get('cache-control')).toBe(fromNode.headers.get('cache-control'));
  expect(await fromWorker.text()).toBe(await fromNode.text());
}, 60_000);

/** What must match between the runtimes: the status, the problem code and the fields it names. */
const answer = (res: ApiResponse) => ({
  status: res.status,
  code: (res.body as { code?: string } | null)?.code,
  fields: ((res.body as { errors?: Array<{ field: string }> } | null)?.errors ?? []).map((e) => e.field).sort(),
});

it('answers every operation’s invalid requests as Node does (validation, error codes, problem+json)', async () => {
  const doc = JSON.parse(await (await node!.app.request('/openapi.json')).text()) as Record<string, unknown>;
  const tokens = { worker: (await registerCustomer(workerApi, 'build')).token, node: (await registerCustomer(node!.api, 'build')).token };
  const compared: Array<{ key: string; status: number }> = [];
  for (const op of operations(doc)) {
    if (op.path === '/v1/webhooks/stripe') continue; // a raw body checked against Stripe's signature, not validation
    const path = op.path.replace(/\{[^}]+\}/g, 'not-an-id') + (op.parameters.some((p) => p.in === 'query') ? '?limit=-1&cursor=%00' : '');
    const requests: Array<{ body?: unknown; rawBody?: string }> = op.body ? [{ body: [] }, { rawBody: '{' }, { body: {} }] : [{}];
    for (const request of requests) {
      for (const auth of [false, true]) {
        const send = (api: ApiClient, token: string) =>
          api.send(op.method, path, request.body, { ...(auth ? { token } : {}), ...(request.rawBody !== undefined ? { rawBody: request.rawBody } : {}) });
        const [w, n] = [await send(workerApi, tokens.worker), await send(node!.api, tokens.node)];
        expect(answer(w), `${op.key} ${JSON.stringify(request)} ${auth ? 'customer' : 'anonymous'}`).toEqual(answer(n));
        if (w.status >= 400) expect(w.headers.get('content-type')).toContain('application/problem+json');
        compared.push({ key: op.key, status: w.status });
      }
    }
  }
  // Validation did answer (not only 401/403/404): most operations refuse these inputs with 400 or 422.
  expect(compared.filter((c) => c.status === 422).length).toBeGreaterThan(50);
  expect(compared.filter((c) => c.status === 400).length).toBeGreaterThan(10);
  expect(compared.filter((c) => c.status >= 500)).toEqual([]);
}, 300_000);
