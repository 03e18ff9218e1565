/**
 * The public catalog (GET /v1/services), cached for CATALOG_TTL_SECONDS: in memory on Node,
 * in the Cache API (`caches.default`) on Workers. Both sit behind `CatalogCache` (src/deps.ts).
 *
 * Keys: `<origin>/__cache/catalog/services?shop=<hash of the database host, port, name and
 * user>&currency=<CURRENCY>&schema=<response shape version>&release=<app version>&gen=<generation>`.
 * The shop and currency keep one deployment from ever reading another's entry (caches.default
 * is shared by every Worker on the zone); schema and release keep an old response shape from
 * outliving a deploy.
 *
 * Invalidation: an admin edit, once its write has succeeded, stores a new generation token
 * under the generation key, so every later read builds a new key and misses. A read that
 * started before the edit stores its (old) text under the old generation, which nobody asks
 * for again. On Node the generation lives in the same memory as the entries, so an edit is
 * seen by the next request of that process at once; other replicas keep serving their entry
 * until it expires. On Workers the Cache API is per data centre (and a no-op on *.workers.dev):
 * an edit reaches the isolate that handled it at once, the other isolates of that data centre
 * within a few seconds (createCacheApiCatalogCache's isolate layer); elsewhere, entries live
 * out their TTL. Whatever the store does, no entry is served after `expiresAt`, which is the
 * moment the database read that produced it started plus the TTL: a price is never staler
 * than CATALOG_TTL_SECONDS. Direct SQL edits and `npm run cli -- seed` are bounded the same way.
 */
import { systemClock, type CachedText, type CatalogCache, type Clock, type Deps } from '../../deps.js';
import { toJsonText, type JsonText } from '../../http/validation.js';
import { listServices } from './list-services.js';
import type { ServiceListDto } from './schemas.js';

export const CATALOG_TTL_SECONDS = 30;
/**
 * GET /v1/services' Cache-Control. The catalog is public and prices change rarely, so an app
 * reuses its copy for 60 s without the network (phones drop it all day), then revalidates
 * with If-None-Match and gets a bodiless 304 while nothing changed. An admin edit therefore
 * reaches every phone within 60 s + CATALOG_TTL_SECONDS = 90 s; the order is always priced
 * from the database, so a price shown that long after an edit is never what is charged.
 */
export const CATALOG_CACHE_CONTROL = 'public, max-age=60';
/** Bump when the JSON of GET /v1/services changes shape. */
export const CATALOG_CACHE_SCHEMA = 1;
/** The generation entry outlives catalog entries by far; if it is evicted, reads fall back to generation "0", still bounded by the TTL. */
const GENERATION_TTL_SECONDS = 24 * 60 * 60;
const MEMORY_MAX_ENTRIES = 32;

/** Node: a Map, bounded so that keys from odd Host headers cannot grow it. */
export function createMemoryCatalogCache(): CatalogCache {
  const entries = new Map<string, CachedText>();
  // Only path and query: the origin comes from the request's Host header.
  const local = (key: string) => key.slice(key.indexOf('/__cache/'));
  return {
    get: (key) => Promise.resolve(entries.get(local(key))),
    put: (key, entry) => {
      const k = local(key);
      entries.delete(k);
      entries.set(k, entry);
      for (const oldest of entries.keys()) {
        if (entries.size <= MEMORY_MAX_ENTRIES) break;
        entries.delete(oldest);
      }
      return Promise.resolve();
    },
  };
}

/** The part of the Workers Cache API this needs (`caches.default`). */
export interface CacheApiLike {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

export interface CacheApiCatalogOptions {
  /** How long an isolate trusts what it last read from (or wrote to) the Cache API; default 5 s. */
  isolateSeconds?: number;
  clock?: Clock;
}

/**
 * Workers: `caches.default`, per data centre, fronted by a few seconds of isolate memory so that
 * a hit costs no Cache API call. `open` is called per operation, never at import. The isolate
 * layer remembers misses too (before any admin edit there is no generation entry at all). An
 * edit is seen at once by the isolate that made it, by the other isolates of its data centre
 * within `isolateSeconds`, and elsewhere when entries expire; never later than the TTL.
 */
export function createCacheApiCatalogCache(open: () => CacheApiLike, opts: CacheApiCatalogOptions = {}): CatalogCache {
  const clock = opts.clock ?? systemClock;
  const isolateMs = (opts.isolateSeconds ?? 5) * 1000;
  const isolate = new Map<string, { entry: CachedText | undefined; until: number }>();
  const remember = (key: string, entry: CachedText | undefined) => {
    isolate.delete(key);
    isolate.set(key, { entry, until: clock.now().getTime() + isolateMs });
    while (isolate.size > MEMORY_MAX_ENTRIES) isolate.delete(isolate.keys().next().value!);
  };
  return {
    async get(key) {
      const near = isolate.get(key);
      if (near && near.until > clock.now().getTime()) return near.entry;
      const res = await open().match(key);
      let entry: CachedText | undefined;
      if (res) {
        const expiresAt = Number(res.headers.get('x-catalog-expires-at'));
        const etag = res.headers.get('x-catalog-etag') ?? undefined;
        const value = await res.text();
        entry = Number.isFinite(expiresAt) && expiresAt > 0 ? { value, expiresAt, ...(etag ? { etag } : {}) } : undefined;
      }
      remember(key, entry);
      return entry;
    },
    async put(key, entry, ttlSeconds) {
      if (ttlSeconds < 1) return;
      remember(key, entry);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'cache-control': `max-age=${Math.floor(ttlSeconds)}`,
        'x-catalog-expires-at': String(entry.expiresAt),
      };
      if (entry.etag) headers['x-catalog-etag'] = entry.etag;
      await open().put(key, new Response(entry.value, { headers }));
    },
  };
}

const shopIds = new WeakMap<Deps, Promise<string>>();

/** A stable, non-secret id of the database this deployment serves (never the password). */
function shopId(deps: Deps): Promise<string> {
  let id = shopIds.get(deps);
  if (!id) {
    const url = deps.config.databaseUrl ? new URL(deps.config.databaseUrl) : undefined;
    const identity = url ? `${url.username}@${url.hostname}:${url.port}${url.pathname}` : 'embedded';
    id = deps.sha256Hex(identity).then((hex) => hex.slice(0, 16));
    shopIds.set(deps, id);
  }
  return id;
}

interface Keys {
  generation: string;
  data: (gen: string) => string;
}
const keyCache = new WeakMap<Deps, Map<string, Keys>>();

/** The keys for this deployment and request origin; built once per origin (a handful per process). */
async function keys(deps: Deps, requestUrl: string): Promise<Keys> {
  const slash = requestUrl.indexOf('/', requestUrl.indexOf('//') + 2);
  const origin = slash < 0 ? requestUrl : requestUrl.slice(0, slash); // new URL() per request costs more
  let byOrigin = keyCache.get(deps);
  if (!byOrigin) keyCache.set(deps, (byOrigin = new Map<string, Keys>()));
  const known = byOrigin.get(origin);
  if (known) return known;
  const q = new URLSearchParams({
    shop: await shopId(deps),
    currency: deps.config.currency,
    schema: String(CATALOG_CACHE_SCHEMA),
    release: deps.config.appVersion,
  });
  const dataPrefix = `${origin}/__cache/catalog/services?${q}&gen=`;
  // The generation changes only on an admin edit: its key is built once, not per request.
  let last: { gen: string; key: string } | undefined;
  const made: Keys = {
    generation: `${origin}/__cache/catalog/generation?${q}`,
    data: (gen) => (last?.gen === gen ? last.key : (last = { gen, key: dataPrefix + encodeURIComponent(gen) }).key),
  };
  if (byOrigin.size >= MEMORY_MAX_ENTRIES) byOrigin.clear();
  byOrigin.set(origin, made);
  return made;
}

const fresh = (entry: CachedText | undefined, now: number) => (entry && entry.expiresAt > now ? entry : undefined);

/** A cache that fails is a miss, never an error for the customer. */
async function safeGet(deps: Deps, key: string): Promise<CachedText | undefined> {
  try {
    return await deps.catalogCache.get(key);
  } catch (error) {
    deps.logger.warn('catalog cache read failed', { error });
    return undefined;
  }
}

async function safePut(deps: Deps, key: string, entry: CachedText, ttlSeconds: number): Promise<void> {
  try {
    await deps.catalogCache.put(key, entry, ttlSeconds);
  } catch (error) {
    deps.logger.warn('catalog cache write failed', { error });
  }
}

/** GET /v1/services' body and its entity tag, made together and cached together. */
export interface CatalogRepresentation {
  json: JsonText<ServiceListDto>;
  /** A strong validator (RFC 9110 §8.8.3): `"` + SHA-256 of the body's exact UTF-8 bytes, in hex + `"`. */
  etag: string;
}

/** The strong ETag of a catalog body: its bytes hashed, so equal bytes always get the same tag on every replica and runtime. */
export async function catalogEtag(deps: Deps, json: string): Promise<string> {
  return `"${await deps.sha256Hex(json)}"`;
}

async function lookUp(deps: Deps, requestUrl: string, now: number): Promise<{ hit: CatalogRepresentation | undefined; key: string }> {
  const k = await keys(deps, requestUrl);
  const generation = fresh(await safeGet(deps, k.generation), now)?.value ?? '0';
  const key = k.data(generation);
  const entry = fresh(await safeGet(deps, key), now);
  if (!entry) return { hit: undefined, key };
  // Every entry under this key was written by cachedCatalog through toJsonText (CATALOG_CACHE_SCHEMA versions the key).
  const json = entry.value as JsonText<ServiceListDto>;
  return { hit: { json, etag: entry.etag ?? (await catalogEtag(deps, json)) }, key };
}

/**
 * What cachedCatalog would answer from the cache now, or undefined on a miss (no database read,
 * nothing written): the Node server's cached-catalog path (src/http/fast-catalog.ts) answers only hits.
 */
export async function catalogHit(deps: Deps, requestUrl: string): Promise<CatalogRepresentation | undefined> {
  return (await lookUp(deps, requestUrl, deps.clock.now().getTime())).hit;
}

/**
 * The body of GET /v1/services and its ETag: from the cache while fresh, else from the
 * database (one round trip). The tag is computed once per cached catalog, when it is made.
 */
export async function cachedCatalog(deps: Deps, requestUrl: string): Promise<CatalogRepresentation> {
  const now = deps.clock.now().getTime();
  const { hit, key } = await lookUp(deps, requestUrl, now);
  if (hit) return hit;
  const json = toJsonText<ServiceListDto>({ data: await listServices(deps, { includeInactive: false }) });
  const etag = await catalogEtag(deps, json);
  // The TTL runs from before the read: the entry can never be older than that.
  await safePut(deps, key, { value: json, etag, expiresAt: now + CATALOG_TTL_SECONDS * 1000 }, CATALOG_TTL_SECONDS);
  return { json, etag };
}

/** After an admin's catalog write has succeeded: every later read misses and reloads. */
export async function invalidateCatalog(deps: Deps, requestUrl: string): Promise<void> {
  const now = deps.clock.now().getTime();
  const k = await keys(deps, requestUrl);
  await safePut(deps, k.generation, { value: crypto.randomUUID(), expiresAt: now + GENERATION_TTL_SECONDS * 1000 }, GENERATION_TTL_SECONDS);
}
