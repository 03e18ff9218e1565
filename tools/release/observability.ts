/**
 * The release gate's view of real traffic: per version and per route, request count, 5xx
 * count and p95 (ms) over a window, from the Workers Analytics Engine SQL API. The Worker writes
 * one `http` data point per request (src/metrics/analytics-engine.ts): blob1 `http`, blob2
 * method, blob3 route, blob4 status, double1 duration ms, double2 status, index1 version id; the
 * dataset is the environment's `METRICS` binding in wrangler.toml.
 *
 * API (https://developers.cloudflare.com/analytics/analytics-engine/sql-api/): POST the SQL text
 * as the body to /accounts/{account_id}/analytics_engine/sql with `Authorization: Bearer <token>`
 * (permission Account Analytics Read). `FORMAT JSON` answers ClickHouse's JSON format:
 * `{ meta: [{ name, type }], data: [{ column: value }], rows }`, where 64-bit integers come back
 * as decimal strings (ClickHouse quotes UInt64/Int64 in JSON). Rows are sampled: each stands for
 * `_sample_interval` events, so counts are `SUM(_sample_interval)` and the p95 is
 * `quantileExactWeighted(0.95)(double1, _sample_interval)`
 * (https://developers.cloudflare.com/analytics/analytics-engine/sql-reference/aggregate-functions/).
 *
 * Anything unexpected (HTTP error, a missing column, a value that is not a number) throws: the
 * gate treats that as inconclusive and fails the step. It never guesses.
 */
import type { FetchLike, ObservabilitySource, RouteStats, VersionTraffic } from './types.js';

export interface AnalyticsEngineOptions {
  accountId: string;
  apiToken: string;
  /** The environment's dataset (wrangler.toml `[[env.<env>.analytics_engine_datasets]]`, binding METRICS). */
  dataset: string;
  fetch: FetchLike;
  apiBase?: string;
}

/**
 * Routes that are not users: uptime checks and health probes (/healthz, /readyz) and scrapes
 * (/metrics). Left out of every number, as the Prometheus rules and the Kubernetes gate do: a
 * health checker hitting the Worker every few seconds would otherwise make up `minRequests` on
 * its own (a thin staging judged on /healthz) and dilute the 5xx ratio of real requests.
 */
export const NOT_USER_ROUTES = ['/healthz', '/readyz', '/metrics'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATASET = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `YYYY-MM-DD HH:MM:SS` in UTC, for `toDateTime('…')`. */
export function sqlDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The two queries: per version and route, and per version overall (a p95 cannot be combined
 * from per-route p95s). Version ids and the dataset name are checked, never quoted blindly.
 */
export function trafficQueries(dataset: string, versionIds: string[], fromMs: number, toMs: number): { byRoute: string; overall: string } {
  if (!DATASET.test(dataset)) throw new Error(`dataset name ${JSON.stringify(dataset)} is not a plain identifier`);
  for (const v of versionIds) if (!UUID.test(v)) throw new Error(`version id ${JSON.stringify(v)} is not a UUID`);
  const where = [
    `blob1 = 'http'`,
    `blob3 NOT IN (${NOT_USER_ROUTES.map((r) => `'${r}'`).join(', ')})`,
    `index1 IN (${versionIds.map((v) => `'${v}'`).join(', ')})`,
    `timestamp >= toDateTime('${sqlDateTime(Math.floor(fromMs / 1000) * 1000)}')`,
    `timestamp < toDateTime('${sqlDateTime(Math.ceil(toMs / 1000) * 1000)}')`,
  ].join(' AND ');
  const measures = [
    'SUM(_sample_interval) AS requests',
    'SUM(IF(double2 >= 500, _sample_interval, 0)) AS errors_5xx',
    'quantileExactWeighted(0.95)(double1, _sample_interval) AS p95_ms',
  ].join(', ');
  return {
    byRoute: `SELECT index1 AS version, blob2 AS method, blob3 AS route, ${measures} FROM ${dataset} WHERE ${where} GROUP BY version, method, route FORMAT JSON`,
    overall: `SELECT index1 AS version, ${measures} FROM ${dataset} WHERE ${where} GROUP BY version FORMAT JSON`,
  };
}

type Row = Record<string, unknown>;

/** A number, or a decimal string (ClickHouse's JSON for 64-bit integers); anything else throws. */
function num(row: Row, column: string): number {
  const v = row[column];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  throw new Error(`column ${column} is ${JSON.stringify(v)}, not a number`);
}

function str(row: Row, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw new Error(`column ${column} is ${JSON.stringify(v)}, not a string`);
  return v;
}

/** Reads a `FORMAT JSON` answer: `meta` must name every expected column, `data` must be rows, `rows` must match. */
export function readJsonFormat(body: unknown, columns: string[]): Row[] {
  const b = body as { meta?: unknown; data?: unknown; rows?: unknown } | null;
  if (!b || !Array.isArray(b.meta) || !Array.isArray(b.data) || typeof b.rows !== 'number') {
    throw new Error('unexpected answer: not { meta, data, rows }');
  }
  const names = new Set((b.meta as { name?: unknown }[]).map((m) => m.name));
  const missing = columns.filter((c) => !names.has(c));
  if (missing.length) throw new Error(`unexpected answer: no column ${missing.join(', ')}`);
  if (b.rows !== b.data.length) throw new Error(`unexpected answer: rows ${b.rows} but ${b.data.length} data rows`);
  for (const r of b.data) if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('unexpected answer: a data row is not an object');
  return b.data as Row[];
}

function stats(route: string, row: Row): RouteStats {
  const requests = num(row, 'requests');
  const errors5xx = num(row, 'errors_5xx');
  if (requests < 0 || errors5xx < 0 || errors5xx > requests) throw new Error(`unexpected answer: ${route} has ${errors5xx} 5xx of ${requests} requests`);
  // quantileExactWeighted over no rows cannot happen inside a group; NaN would fail num().
  return { route, requests, errors5xx, errorRatio: requests === 0 ? 0 : errors5xx / requests, p95Ms: Math.round(num(row, 'p95_ms') * 10) / 10 };
}

export function analyticsEngineSource(opts: AnalyticsEngineOptions): ObservabilitySource {
  const url = `${opts.apiBase ?? 'https://api.cloudflare.com/client/v4'}/accounts/${opts.accountId}/analytics_engine/sql`;
  const query = async (sql: string, columns: string[]) => {
    const res = await opts.fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${opts.apiToken}` }, body: sql });
    const text = await res.text();
    if (!res.ok) throw new Error(`Analytics Engine SQL API: HTTP ${res.status}: ${text.slice(0, 300)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`Analytics Engine SQL API: not JSON: ${text.slice(0, 200)}`);
    }
    return readJsonFormat(json, columns);
  };
  return {
    name: 'analytics-engine',
    async traffic({ versionIds, fromMs, toMs }) {
      const q = trafficQueries(opts.dataset, versionIds, fromMs, toMs);
      const [routeRows, overallRows] = await Promise.all([
        query(q.byRoute, ['version', 'method', 'route', 'requests', 'errors_5xx', 'p95_ms']),
        query(q.overall, ['version', 'requests', 'errors_5xx', 'p95_ms']),
      ]);
      const out = new Map<string, VersionTraffic>();
      // A version with no points in the window is a reading (zero requests), not a gap.
      for (const v of versionIds) out.set(v, { versionId: v, overall: { route: 'all', requests: 0, errors5xx: 0, errorRatio: 0, p95Ms: 0 }, routes: [] });
      for (const row of overallRows) {
        const v = out.get(str(row, 'version'));
        if (!v) throw new Error(`unexpected answer: version ${String(row.version)} was not asked for`);
        v.overall = stats('all', row);
      }
      for (const row of routeRows) {
        const v = out.get(str(row, 'version'));
        if (!v) throw new Error(`unexpected answer: version ${String(row.version)} was not asked for`);
        v.routes.push(stats(`${str(row, 'method')} ${str(row, 'route')}`, row));
      }
      // The two queries may see a few more points apart (ingestion continues), so totals are not cross-checked.
      for (const v of out.values()) {
        v.routes.sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route));
      }
      return out;
    },
  };
}
