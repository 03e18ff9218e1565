/**
 * Requests to one version of the Worker through the `Cloudflare-Workers-Version-Overrides`
 * header, timed with the injected clock: waiting until an override applies, and the smoke
 * test of a new version (health, readiness, catalog, login and an authenticated read).
 * A probe answered by another version than the one asked for counts as misrouted. A failed
 * step of a release throws `Failure`, which the release turns into the report's `failure`.
 */
import type { CheckResult, Clock, FetchLike, ReleaseTarget } from './types.js';

export const OVERRIDE_HEADER = 'Cloudflare-Workers-Version-Overrides';

/** The real clock: `performance.now()` in ms, and `setTimeout`; tests inject a fake one. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface Probe {
  name: string;
  status: number | 'network_error';
  ms: number;
  servedBy: string | null;
  body: unknown;
  error?: string;
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

  async request(versionId: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Probe> {
    const headers: Record<string, string> = {
      [OVERRIDE_HEADER]: `${this.target.workerName}="${versionId}"`,
      'User-Agent': 'laundry-release-tool',
      Accept: 'application/json',
    };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (init.token) headers.Authorization = `Bearer ${init.token}`;
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
      return { name: path, status: res.status, ms: this.clock.now() - started, servedBy: res.headers.get('x-app-version'), body };
    } catch (err) {
      return {
        name: path,
        status: 'network_error',
        ms: this.clock.now() - started,
        servedBy: null,
        body: null,
        error: err instanceof Error ? err.message : String(err),
      };
    }
  }
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
    if (last.status !== 'network_error' && !misrouted(last, versionId)) return;
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

export async function smokeTest(prober: Prober, versionId: string, account: { email: string; password: string }): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const check = (name: string, probe: Probe, ok: (p: Probe) => boolean) => {
    const routed = !misrouted(probe, versionId);
    const passed = routed && ok(probe);
    checks.push({
      name,
      ok: passed,
      detail: routed ? `${describeProbe(probe, !passed)} in ${Math.round(probe.ms)} ms` : `answered by ${probe.servedBy}, not ${versionId}`,
      numbers: { status: probe.status, ms: Math.round(probe.ms) },
    });
    return passed;
  };
  const body = (p: Probe) => (typeof p.body === 'object' && p.body !== null ? (p.body as Record<string, unknown>) : {});

  check('GET /healthz', await prober.request(versionId, '/healthz'), (p) => p.status === 200 && body(p).status === 'ok');
  check('GET /readyz', await prober.request(versionId, '/readyz'), (p) => p.status === 200 && body(p).status === 'ready');
  check('GET /v1/services', await prober.request(versionId, '/v1/services'), (p) => p.status === 200 && Array.isArray(body(p).data) && (body(p).data as unknown[]).length > 0);
  const login = await prober.request(versionId, '/v1/auth/login', { method: 'POST', body: { email: account.email, password: account.password } });
  const loggedIn = check('POST /v1/auth/login (smoke account)', login, (p) => p.status === 200 && typeof body(p).accessToken === 'string');
  if (!loggedIn) return checks;
  const token = body(login).accessToken as string;
  check('GET /v1/me (authenticated)', await prober.request(versionId, '/v1/me', { token }), (p) => p.status === 200 && String(body(p).email).toLowerCase() === account.email.toLowerCase());
  // Housekeeping, not a check: end the smoke session so refresh tokens do not pile up.
  const refreshToken = body(login).refreshToken;
  if (typeof refreshToken === 'string') await prober.request(versionId, '/v1/auth/logout', { method: 'POST', body: { refreshToken } });
  return checks;
}
