/**
 * GET /v1/services is cached (src/modules/catalog/cache.ts). The app runs on the real
 * neon-http driver so the local Neon endpoint counts the round trips a cache hit saves; the
 * clock is injected so the TTL can be crossed without waiting.
 */
import { createHash } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  LOCAL_NEON_CONNECTION_STRING,
  pgBackend,
  pgliteBackend,
  startLocalNeon,
  type LocalNeonBackend,
  type LocalNeonServer,
} from '../../tools/local-neon/index.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createNeonDatabase } from '../../src/db/neon.js';
import { users } from '../../src/db/schema.js';
import type { CatalogCache, Deps } from '../../src/deps.js';
import { createMemoryLogger } from '../../src/logger.js';
import {
  CATALOG_TTL_SECONDS,
  cachedCatalog,
  createCacheApiCatalogCache,
  createMemoryCatalogCache,
  type CacheApiLike,
} from '../../src/modules/catalog/cache.js';
import { createNodeDeps } from '../../src/platform/node/deps.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { prepare } from '../setup/databases.js';
import { apiClient, uniqueEmail, type ApiClient } from '../support/client.js';
import { TEST_JWT_SECRET } from '../support/harness.js';

const TTL_MS = CATALOG_TTL_SECONDS * 1000;

let pglite: PGlite | undefined;
let backend: LocalNeonBackend;
let endpoint: LocalNeonServer;
let nowMs = Date.now();
const clock = { now: () => new Date(nowMs) };

beforeAll(async () => {
  const url = inject('nodeDatabaseUrl');
  if (url) backend = pgBackend(url, { max: 5 });
  else {
    pglite = await PGlite.create('memory://');
    await prepare(await createPgliteDatabase(pglite));
    backend = pgliteBackend(pglite);
  }
  endpoint = await startLocalNeon({ backend, connectionString: LOCAL_NEON_CONNECTION_STRING });
});
// Access tokens are stamped with this clock: each test starts at the real time and only moves forward.
beforeEach(() => {
  nowMs = Date.now();
});
afterAll(async () => {
  await endpoint.close();
  await backend.close();
  await pglite?.close();
});

interface Shop {
  deps: Deps;
  api: ApiClient;
  adminToken: string;
}

/** A fresh app (its own memory cache unless one is given) on the neon-http driver, with the test clock. */
async function shop(opts: { catalogCache?: CatalogCache; currency?: string } = {}): Promise<Shop> {
  const database = createNeonDatabase(LOCAL_NEON_CONNECTION_STRING, { localEndpoint: endpoint.url });
  const config = loadConfig({ APP_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, ...(opts.currency ? { CURRENCY: opts.currency } : {}) });
  const base = createNodeDeps(config, { database, logger: createMemoryLogger(), argon2Params: { memoryKiB: 64, passes: 1, parallelism: 1 } });
  const deps: Deps = { ...base, clock, ...(opts.catalogCache ? { catalogCache: opts.catalogCache } : {}) };
  const app = createApp(deps);
  const api = apiClient((request) => Promise.resolve(app.fetch(request)));
  const email = uniqueEmail('cache-admin');
  expect((await api.post('/v1/auth/register', { email, password: 'catalog cache admin' })).status).toBe(201);
  await database.db.update(users).set({ role: 'admin' }).where(eq(users.email, email));
  const login = await api.post('/v1/auth/login', { email, password: 'catalog cache admin' });
  expect(login.status, login.text).toBe(200);
  return { deps, api, adminToken: login.body.accessToken };
}

/** A service of this test's own (other suites share the database), created through the admin API. */
async function newService(s: Shop, unitPrice = 300): Promise<string> {
  const body = { slug: `cache-${crypto.randomUUID().slice(0, 8)}`, name: 'Cache test', pricingModel: 'per_item', unitPrice, turnaroundHours: 48 };
  const res = await s.api.post('/v1/admin/services', body, { token: s.adminToken });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

/** GET /v1/services: the service's price and the round trips the call cost. */
async function priceOf(s: Shop, id: string) {
  endpoint.resetStats();
  const res = await s.api.get('/v1/services');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  const stats = endpoint.stats();
  const svc = res.body.data.find((x: { id: string }) => x.id === id);
  return { price: svc?.unitPrice as number | undefined, addOns: svc?.addOns as Array<{ slug: string; price: number }>, roundTrips: stats.queries + stats.batches };
}

describe('catalog cache (memory, Node)', () => {
  it('serves GET /v1/services without touching the database within the TTL', async () => {
    const s = await shop();
    const id = await newService(s, 300);
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 1 });
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 0 });
    nowMs += TTL_MS - 1;
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 0 });
  });

  it('an admin edit shows on the next read: PATCH service, POST and PATCH add-on', async () => {
    const s = await shop();
    const id = await newService(s, 300);
    expect((await priceOf(s, id)).roundTrips).toBe(1);
    expect((await priceOf(s, id)).roundTrips).toBe(0);

    const patched = await s.api.patch(`/v1/admin/services/${id}`, { unitPrice: 450 }, { token: s.adminToken });
    expect(patched.status, patched.text).toBe(200);
    expect(await priceOf(s, id)).toMatchObject({ price: 450, roundTrips: 1 });
    expect(await priceOf(s, id)).toMatchObject({ price: 450, roundTrips: 0 });

    const addOn = await s.api.post(`/v1/admin/services/${id}/add-ons`, { slug: 'press', name: 'Press', price: 80 }, { token: s.adminToken });
    expect(addOn.status, addOn.text).toBe(201);
    expect((await priceOf(s, id)).addOns).toEqual([expect.objectContaining({ slug: 'press', price: 80 })]);
    await s.api.patch(`/v1/admin/add-ons/${addOn.body.id}`, { price: 95 }, { token: s.adminToken });
    expect((await priceOf(s, id)).addOns).toEqual([expect.objectContaining({ slug: 'press', price: 95 })]);
  });

  it('never serves an entry past the TTL, even when nothing invalidated it', async () => {
    const s = await shop();
    const id = await newService(s, 300);
    const loadedAt = nowMs;
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 1 });
    // A change the app does not see (SQL, another replica): the cache may lag, by at most the TTL.
    await backend.query({ query: 'UPDATE services SET unit_price = 999 WHERE id = $1', params: [id] });
    nowMs = loadedAt + TTL_MS - 1;
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 0 });
    nowMs = loadedAt + TTL_MS;
    expect(await priceOf(s, id)).toMatchObject({ price: 999, roundTrips: 1 });
  });

  it('a read that began before an edit cannot park its stale copy where later reads look', async () => {
    const store = createMemoryCatalogCache();
    let editDuringRead: (() => Promise<void>) | undefined;
    // Delay the reader's write-back until the admin's edit has committed and invalidated.
    const racing: CatalogCache = {
      get: (key) => store.get(key),
      put: async (key, entry, ttl) => {
        const edit = editDuringRead;
        editDuringRead = undefined;
        if (edit && key.includes('/services?')) await edit();
        await store.put(key, entry, ttl);
      },
    };
    const admin = await shop({ catalogCache: racing });
    const id = await newService(admin, 300);
    editDuringRead = async () => {
      const res = await admin.api.patch(`/v1/admin/services/${id}`, { unitPrice: 555 }, { token: admin.adminToken });
      expect(res.status, res.text).toBe(200);
    };
    expect((await priceOf(admin, id)).price).toBe(300); // read before the edit: the old price is right for it
    expect(await priceOf(admin, id)).toMatchObject({ price: 555, roundTrips: 1 });
  });

  it('keys keep shops apart: another currency never reads this one’s entry', async () => {
    const shared = createMemoryCatalogCache();
    const usd = await shop({ catalogCache: shared });
    const eur = await shop({ catalogCache: shared, currency: 'EUR' });
    const id = await newService(usd, 300);
    expect((await priceOf(usd, id)).roundTrips).toBe(1);
    expect((await priceOf(usd, id)).roundTrips).toBe(0);
    expect((await priceOf(eur, id)).roundTrips).toBe(1);
    const url = 'http://laundry.test/v1/services';
    expect(JSON.parse((await cachedCatalog(eur.deps, url)).json)).toHaveProperty('data');
  });
});

describe('catalog cache (Cache API store, as on Workers)', () => {
  /** A caches.default stand-in that keeps everything forever: expiry must come from the app. */
  function foreverCache(): CacheApiLike & { keys: string[] } {
    const entries = new Map<string, { body: string; headers: Headers }>();
    return {
      get keys() {
        return [...entries.keys()];
      },
      match: async (key) => {
        const e = entries.get(key);
        return e ? new Response(e.body, { headers: e.headers }) : undefined;
      },
      put: async (key, response) => {
        entries.set(key, { body: await response.text(), headers: response.headers });
      },
    };
  }

  it('hits within the TTL, reloads after it, and invalidates on an admin edit', async () => {
    const fake = foreverCache();
    const s = await shop({ catalogCache: createCacheApiCatalogCache(() => fake, { clock }) });
    const id = await newService(s, 300);
    const loadedAt = nowMs;
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 1 });
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 0 });
    // Keyed by the request's origin, the shop's database, currency, response shape, release and generation.
    expect(fake.keys.find((k) => k.includes('/services?'))).toMatch(
      /^http:\/\/laundry\.test\/__cache\/catalog\/services\?shop=[0-9a-f]{16}&currency=USD&schema=1&release=[^&]+&gen=[0-9a-f-]{36}$/,
    );

    await backend.query({ query: 'UPDATE services SET unit_price = 777 WHERE id = $1', params: [id] });
    nowMs = loadedAt + TTL_MS;
    expect(await priceOf(s, id)).toMatchObject({ price: 777, roundTrips: 1 });

    await s.api.patch(`/v1/admin/services/${id}`, { unitPrice: 888 }, { token: s.adminToken });
    expect(await priceOf(s, id)).toMatchObject({ price: 888, roundTrips: 1 });
    expect(await priceOf(s, id)).toMatchObject({ price: 888, roundTrips: 0 });
  });

  it('other isolates of the data centre see an edit within isolateSeconds, never later than the TTL', async () => {
    const colo = foreverCache(); // one data centre's caches.default, shared by two isolates
    const a = await shop({ catalogCache: createCacheApiCatalogCache(() => colo, { clock, isolateSeconds: 5 }) });
    const b = await shop({ catalogCache: createCacheApiCatalogCache(() => colo, { clock, isolateSeconds: 5 }) });
    const id = await newService(a, 300);
    expect(await priceOf(a, id)).toMatchObject({ price: 300, roundTrips: 1 });
    expect(await priceOf(b, id)).toMatchObject({ price: 300, roundTrips: 0 }); // filled by a, shared
    const edit = await a.api.patch(`/v1/admin/services/${id}`, { unitPrice: 640 }, { token: a.adminToken });
    expect(edit.status, edit.text).toBe(200);
    expect((await priceOf(a, id)).price).toBe(640); // the editing isolate: at once
    expect((await priceOf(b, id)).price).toBe(300); // another isolate: still trusting its memory…
    nowMs += 5000;
    expect((await priceOf(b, id)).price).toBe(640); // …for at most isolateSeconds
  });

  it('a failing cache is a miss, never an error', async () => {
    const broken: CacheApiLike = {
      match: () => Promise.reject(new Error('cache unavailable')),
      put: () => Promise.reject(new Error('cache unavailable')),
    };
    const s = await shop({ catalogCache: createCacheApiCatalogCache(() => broken, { clock, isolateSeconds: 0 }) });
    const id = await newService(s, 300);
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 1 });
    expect(await priceOf(s, id)).toMatchObject({ price: 300, roundTrips: 1 });
    const patched = await s.api.patch(`/v1/admin/services/${id}`, { unitPrice: 310 }, { token: s.adminToken });
    expect(patched.status, patched.text).toBe(200);
    expect(await priceOf(s, id)).toMatchObject({ price: 310, roundTrips: 1 });
  });
});

describe('GET /v1/services: ETag, Cache-Control and 304 (RFC 9110 §13.1.2, §15.4.5)', () => {
  /** The shop with its SHA-256 calls over catalog bodies counted (the ETag is computed from them). */
  async function countingShop(catalogCache?: CatalogCache) {
    const s = await shop(catalogCache ? { catalogCache } : {});
    const counted = Object.assign(s, { hashes: 0 });
    const sha256Hex = s.deps.sha256Hex;
    s.deps.sha256Hex = (text) => {
      if (text.startsWith('{"data":')) counted.hashes++;
      return sha256Hex(text);
    };
    return counted;
  }
  const sha256 = (text: string) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

  it('tags the exact bytes once per cached catalog, answers a matching If-None-Match with a bodiless 304, and a change with a new tag', async () => {
    const s = await countingShop();
    const id = await newService(s, 300);
    const first = await s.api.get('/v1/services');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toBe(`"${sha256(first.text)}"`); // strong, over the body's UTF-8 bytes
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    expect(s.hashes).toBe(1);

    // Cache hits reuse the stored tag: no hashing, no round trip.
    endpoint.resetStats();
    const second = await s.api.get('/v1/services');
    expect(second.headers.get('etag')).toBe(etag);
    expect(second.text).toBe(first.text);
    const notModified = await s.api.get('/v1/services', { headers: { 'if-none-match': etag, 'x-request-id': 'phone-resume-0001' } });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);
    expect(notModified.headers.get('cache-control')).toBe('public, max-age=60');
    expect(notModified.headers.get('x-request-id')).toBe('phone-resume-0001');
    expect(notModified.headers.get('content-type')).toBeNull();
    expect(endpoint.stats().queries + endpoint.stats().batches).toBe(0);
    expect(s.hashes).toBe(1);

    // An admin edit: a new body, a new tag; the old tag gets the full new catalog.
    const patched = await s.api.patch(`/v1/admin/services/${id}`, { unitPrice: 450 }, { token: s.adminToken });
    expect(patched.status, patched.text).toBe(200);
    const changed = await s.api.get('/v1/services', { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.body.data.find((x: { id: string }) => x.id === id).unitPrice).toBe(450);
    const newTag = changed.headers.get('etag')!;
    expect(newTag).not.toBe(etag);
    expect(newTag).toBe(`"${sha256(changed.text)}"`);
    expect((await s.api.get('/v1/services', { headers: { 'if-none-match': newTag } })).status).toBe(304);
    expect(s.hashes).toBe(2);
  });

  it('matches If-None-Match by weak comparison, in lists and as *, and never on a malformed or other tag', async () => {
    const s = await shop();
    const etag = (await s.api.get('/v1/services')).headers.get('etag')!;
    const opaque = etag.slice(1, -1);
    const cases: Array<[string, number]> = [
      [etag, 304],
      [`W/${etag}`, 304], // a weakened copy (a compressing proxy) still matches: §8.8.3.2
      [`"other", ${etag}`, 304],
      [`W/"other",W/${etag}`, 304],
      ['*', 304],
      ['"other"', 200],
      [opaque, 200], // unquoted: not an entity tag
      [`"${opaque}`, 200],
      [`${etag.toUpperCase()}`, 200], // entity tags are compared octet by octet
      ['', 200],
    ];
    for (const [header, status] of cases) {
      const res = await s.api.get('/v1/services', { headers: { 'if-none-match': header } });
      expect({ header, status: res.status }).toEqual({ header, status });
      expect(res.headers.get('etag')).toBe(etag);
    }
    const head = await s.api.send('HEAD', '/v1/services', undefined, { headers: { 'if-none-match': etag } });
    expect(head.status).toBe(304);
  });

  it('the Cache API store keeps the tag with the entry: another isolate answers 304 without hashing', async () => {
    const colo = createCacheApiCatalogCache(() => foreverColo, { clock, isolateSeconds: 0 });
    const a = await countingShop(colo);
    const b = await countingShop(createCacheApiCatalogCache(() => foreverColo, { clock, isolateSeconds: 0 }));
    const etag = (await a.api.get('/v1/services')).headers.get('etag')!;
    expect(a.hashes).toBe(1);
    const fromB = await b.api.get('/v1/services', { headers: { 'if-none-match': etag } });
    expect(fromB.status).toBe(304);
    expect(b.hashes).toBe(0);
  });

  it('declares the If-None-Match parameter, the 304 and the ETag and Cache-Control headers in /openapi.json', async () => {
    const s = await shop();
    const op = (await s.api.get('/openapi.json')).body.paths['/v1/services'].get;
    expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'if-none-match', in: 'header', required: false })]));
    expect(op.responses['304']).toBeDefined();
    expect(op.responses['304'].content).toBeUndefined();
    for (const status of ['200', '304']) expect(Object.keys(op.responses[status].headers)).toEqual(expect.arrayContaining(['ETag', 'Cache-Control']));
  });
});

/** One data centre's caches.default for the ETag test: kept forever, expiry comes from the app. */
const foreverColo: CacheApiLike = (() => {
  const entries = new Map<string, { body: string; headers: Headers }>();
  return {
    match: (key: string) => {
      const e = entries.get(key);
      return Promise.resolve(e ? new Response(e.body, { headers: e.headers }) : undefined);
    },
    put: async (key: string, response: Response) => {
      entries.set(key, { body: await response.text(), headers: response.headers });
    },
  };
})();
