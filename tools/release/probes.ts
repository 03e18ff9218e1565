/**
 * Requests to one version of the Worker through the `Cloudflare-Workers-Version-Overrides`
 * header, timed with the injected clock: waiting until an override applies, and the smoke
 * test of a new version: health, readiness, catalog, login, `/v1/me`, and placing and
 * cancelling a pay-on-delivery order for the synthetic customer (docs/runbook.md, "Releasing
 * Workers"). A probe answered by another version than the one asked for counts as misrouted.
 *
 * A probe that fails is retried (`retries` times, backoff 500 ms, 1 s, 2 s…) before it counts.
 * A probe that never reached the Worker is an *edge* error, not the version's failure: no
 * response (network error), a Cloudflare 52x/530 (https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/),
 * or a response without the `X-Request-Id` and `X-App-Version` headers every Worker answer
 * carries (src/worker.ts, src/http/middleware.ts) — except Cloudflare's page for a Worker that
 * threw or exceeded its limits (1101, 1102), which is the version's failure. Edge errors are reported; too many make
 * a gate inconclusive, which fails. A failed step of a release throws `Failure`.
 */
import type { CheckResult, Clock, FetchLike, ReleaseTarget } from './types.js';

export const OVERRIDE_HEADER = 'Cloudflare-Workers-Version-Overrides';

/** The real clock: `performance.now()` in ms, and `setTimeout`; tests inject a fake one. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface Probe {
  name: string;
  status: number | 'network_error';
  ms: number;
  servedBy: string | null;
  body: unknown;
  error?: string;
  /** Did not come from the Worker: network error, Cloudflare 52x/530, or no X-Request-Id / X-App-Version. */
  edge: boolean;
}

/** Cloudflare's own 5xx (the origin or Worker was never reached or did not answer). */
export const CLOUDFLARE_EDGE_STATUSES = new Set([520, 521, 522, 523, 524, 525, 526, 527, 530]);

/**
 * Cloudflare's error page (HTML "Error 1101", or "error code: 1101" for API clients) when the
 * Worker itself failed: 1101 "Worker threw exception", 1102 "Worker exceeded resource limits"
 * (https://developers.cloudflare.com/workers/observability/errors/). Those are the version's
 * failures, not the edge's, and the Worker writes no Analytics Engine point for them, so the
 * probes are the only place they can count.
 */
export const WORKER_RUNTIME_ERROR = /\b(?:error code:?\s*|error\s+)110[12]\b/i;

export function describeEdge(p: Probe): string {
  if (p.status === 'network_error') return `${p.name}: network error (${p.error})`;
  if (CLOUDFLARE_EDGE_STATUSES.has(p.status)) return `${p.name}: Cloudflare ${p.status}`;
  return `${p.name}: HTTP ${p.status} without X-Request-Id/X-App-Version (not from the Worker)`;
}

export function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export class Prober {
  constructor(
    private readonly target: ReleaseTarget,
    private readonly fetchImpl: FetchLike,
    private readonly clock: Clock,
  ) {}

  async request(versionId: string, path: string, init: RequestOptions = {}): Promise<Probe> {
    const headers: Record<string, string> = {
      [OVERRIDE_HEADER]: `${this.target.workerName}="${versionId}"`,
      'User-Agent': 'laundry-release-tool',
      Accept: 'application/json',
    };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (init.token) headers.Authorization = `Bearer ${init.token}`;
    Object.assign(headers, init.headers);
    const name = `${init.method ?? 'GET'} ${path}`;
    const started = this.clock.now();
    try {
      const res = await this.fetchImpl(`${this.target.baseUrl}${path}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON; keep the text
      }
      const servedBy = res.headers.get('x-app-version');
      // Cloudflare's own page for a Worker that threw (1101) or ran out of CPU or memory (1102)
      // carries none of the app's headers, but the version did it: it counts against the version.
      const crashed = servedBy === null && WORKER_RUNTIME_ERROR.test(text);
      const edge = !crashed && (CLOUDFLARE_EDGE_STATUSES.has(res.status) || servedBy === null || res.headers.get('x-request-id') === null);
      return { name, status: res.status, ms: this.clock.now() - started, servedBy, body, edge };
    } catch (err) {
      return {
        name,
        status: 'network_error',
        ms: this.clock.now() - started,
        servedBy: null,
        body: null,
        error: err instanceof Error ? err.message : String(err),
        edge: true,
      };
    }
  }

  /**
   * `request`, retried while `ok` fails (a Worker answer that is not ok, or an edge error), at
   * most `retries` more times with backoff 500 ms × 2^n on the injected clock. Returns the last
   * answer and every edge error seen on the way (for the report).
   */
  async attempt(versionId: string, path: string, init: RequestOptions, retries: number, ok: (p: Probe) => boolean): Promise<{ probe: Probe; edgeErrors: string[]; attempts: number }> {
    const edgeErrors: string[] = [];
    let probe: Probe;
    let attempts = 0;
    for (;;) {
      probe = await this.request(versionId, path, init);
      attempts++;
      if (probe.edge) edgeErrors.push(describeEdge(probe));
      if ((!probe.edge && ok(probe)) || attempts > retries) break;
      await this.clock.sleep(500 * 2 ** (attempts - 1));
    }
    return { probe, edgeErrors, attempts };
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

/** A probe answered by another version than the one asked for means the override did not apply. */
export function misrouted(probe: Probe, versionId: string): boolean {
  return probe.servedBy !== null && probe.servedBy !== versionId;
}

/** Tokens from the smoke login must never reach CI logs. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /token|password|secret|authorization/i.test(k) ? '[redacted]' : redact(v)]));
}

function describeProbe(p: Probe, withBody = true): string {
  if (p.status === 'network_error') return `network error: ${p.error}`;
  const body = withBody && p.body ? `: ${truncate(typeof p.body === 'string' ? p.body : JSON.stringify(redact(p.body)))}` : '';
  return `HTTP ${p.status}${body}`;
}

/** A failed check: the phase and check the report names, with its numbers and the traffic step. */
export class Failure extends Error {
  constructor(
    readonly phase: string,
    readonly check: string,
    readonly detail: string,
    readonly numbers?: Record<string, number | string>,
    readonly step?: number,
  ) {
    super(`${phase}: ${check}: ${detail}`);
  }
}

export async function waitForOverride(prober: Prober, clock: Clock, versionId: string, timeoutMs: number, log: (l: string) => void) {
  const deadline = clock.now() + timeoutMs;
  let last: Probe | undefined;
  for (;;) {
    last = await prober.request(versionId, '/healthz');
    if (!last.edge && !misrouted(last, versionId)) return;
    if (clock.now() >= deadline) break;
    log(`override not applied yet (served by ${last.servedBy ?? 'unknown'}); retrying`);
    await clock.sleep(2000);
  }
  throw new Failure(
    'smoke',
    'override',
    `requests with ${OVERRIDE_HEADER} for ${versionId} were still answered by ${last?.servedBy ?? 'nothing'} after ${Math.round(timeoutMs / 1000)}s (${describeProbe(last)})`,
  );
}

/** What the smoke test is given: the synthetic customer (`npm run cli -- synthetic-setup`), and how often to retry a probe. */
export interface SmokeAccount {
  email: string;
  password: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'object' && x !== null).map((x) => x as Json) : []);

interface Slot {
  id: string;
  startsAt: number;
  endsAt: number;
  remaining: number;
}
function slots(body: unknown): Slot[] {
  return arr(obj(body).data)
    .map((s) => ({ id: String(s.id), startsAt: Date.parse(String(s.startsAt)), endsAt: Date.parse(String(s.endsAt)), remaining: Number(s.remaining) }))
    .filter((s) => s.remaining > 0 && Number.isFinite(s.startsAt) && Number.isFinite(s.endsAt))
    .sort((a, b) => a.startsAt - b.startsAt);
}

/**
 * The smoke test of one version, every critical route, through the override: health, readiness,
 * catalog, login, `/v1/me`, the customer's address, bookable pickup and delivery slots, placing a
 * pay-on-delivery order (with an Idempotency-Key, so a retried POST cannot book twice) and
 * cancelling it, then logout. Stops at the first check that fails (later ones need its answer).
 * `edgeErrors` collects probes that never reached the Worker.
 */
export async function smokeTest(prober: Prober, versionId: string, account: SmokeAccount, retries = 2, edgeErrors: string[] = []): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const step = async (name: string, path: string, init: RequestOptions, ok: (p: Probe) => boolean): Promise<Probe | undefined> => {
    const r = await prober.attempt(versionId, path, init, retries, (p) => !misrouted(p, versionId) && ok(p));
    edgeErrors.push(...r.edgeErrors);
    const p = r.probe;
    const routed = !misrouted(p, versionId);
    const passed = !p.edge && routed && ok(p);
    const tries = r.attempts > 1 ? ` after ${r.attempts} attempts` : '';
    checks.push({
      name,
      ok: passed,
      detail: p.edge
        ? `inconclusive: never reached the Worker${tries} (${describeEdge(p)})`
        : routed
          ? `${describeProbe(p, !passed)} in ${Math.round(p.ms)} ms${tries}`
          : `answered by ${p.servedBy}, not ${versionId}`,
      numbers: { status: p.status, ms: Math.round(p.ms), attempts: r.attempts },
    });
    return passed ? p : undefined;
  };
  const body = (p: Probe) => obj(p.body);

  await step('GET /healthz', '/healthz', {}, (p) => p.status === 200 && body(p).status === 'ok');
  await step('GET /readyz', '/readyz', {}, (p) => p.status === 200 && body(p).status === 'ready');
  const catalog = await step('GET /v1/services', '/v1/services', {}, (p) => p.status === 200 && arr(body(p).data).length > 0);
  if (checks.some((c) => !c.ok) || !catalog) return checks;
  const login = await step('POST /v1/auth/login (synthetic customer)', '/v1/auth/login', { method: 'POST', body: { email: account.email, password: account.password } }, (p) => p.status === 200 && typeof body(p).accessToken === 'string');
  if (!login) return checks;
  const token = body(login).accessToken as string;
  const refreshToken = body(login).refreshToken;
  try {
    const me = await step('GET /v1/me (authenticated)', '/v1/me', { token }, (p) => p.status === 200 && String(body(p).email).toLowerCase() === account.email.toLowerCase());
    if (!me) return checks;
    const addresses = await step('GET /v1/addresses (one served address)', '/v1/addresses', { token }, (p) => p.status === 200 && arr(body(p).data).some((a) => a.served === true));
    if (!addresses) return checks;
    const address = arr(body(addresses).data).find((a) => a.served === true)!;
    const postcode = encodeURIComponent(String(address.postcode));
    const pickups = await step('GET /v1/slots (pickup)', `/v1/slots?postcode=${postcode}&kind=pickup`, { token }, (p) => p.status === 200 && slots(p.body).length > 0);
    const deliveries = pickups && (await step('GET /v1/slots (delivery)', `/v1/slots?postcode=${postcode}&kind=delivery`, { token }, (p) => p.status === 200 && slots(p.body).length > 0));
    if (!pickups || !deliveries) return checks;
    const service = arr(body(catalog).data)[0]!;
    const turnaroundMs = Number(service.turnaroundHours) * 3_600_000;
    // The earliest pickup that has a delivery slot far enough after it (src/domain/slots.ts checkSlotPair).
    let pair: [Slot, Slot] | undefined;
    for (const pu of slots(pickups.body)) {
      const de = slots(deliveries.body).find((d) => d.startsAt >= pu.endsAt + turnaroundMs);
      if (de) {
        pair = [pu, de];
        break;
      }
    }
    if (!pair) {
      checks.push({ name: 'bookable slot pair', ok: false, detail: `no delivery slot starts ${service.turnaroundHours} h after a pickup slot ends: run \`npm run cli -- synthetic-setup\`` });
      return checks;
    }
    const item = service.pricingModel === 'per_kg' ? { serviceId: service.id, estimatedWeightGrams: 6000 } : { serviceId: service.id, quantity: 1 };
    const order = await step(
      'POST /v1/orders (pay on delivery)',
      '/v1/orders',
      {
        method: 'POST',
        token,
        headers: { 'Idempotency-Key': `release-smoke:${versionId}` },
        body: { items: [item], addressId: address.id, pickupSlotId: pair[0].id, deliverySlotId: pair[1].id, paymentMethod: 'on_delivery', notes: 'release smoke test' },
      },
      (p) => p.status === 201 && typeof body(p).id === 'string',
    );
    if (!order) return checks;
    const orderId = String(body(order).id);
    await step(`POST /v1/orders/{id}/cancel`, `/v1/orders/${orderId}/cancel`, { method: 'POST', token, body: { reason: 'release smoke test' } }, (p) => p.status === 200 && body(p).status === 'cancelled');
    return checks;
  } finally {
    // Housekeeping, not a check: end the smoke session so refresh tokens do not pile up.
    if (typeof refreshToken === 'string') await prober.request(versionId, '/v1/auth/logout', { method: 'POST', body: { refreshToken } });
  }
}
