/**
 * The release gate's second opinion: per-version request counts, errors and p95 from the
 * Workers observability API (Workers Logs), when CLOUDFLARE_API_TOKEN and
 * CLOUDFLARE_ACCOUNT_ID are set. Without them the gate uses its own probes only.
 *
 * Query: POST /accounts/{account}/workers/observability/telemetry/query with the
 * `calculations` view over the invocation fields every Worker request logs
 * ($workers.scriptName, $workers.scriptVersion.id, $workers.wallTimeMs, and the response
 * status). Field names follow Cloudflare's Workers Logs schema; if the API answers in
 * another shape, `stats` throws and the gate records a warning instead of guessing.
 */
import type { FetchLike, ObservabilitySource, VersionStats } from './types.js';

export interface CloudflareObservabilityOptions {
  accountId: string;
  apiToken: string;
  fetch: FetchLike;
  apiBase?: string;
}

type Filter = { key: string; operation: string; type: 'string' | 'number'; value: string | number };

export function telemetryQuery(workerName: string, versionId: string, fromMs: number, toMs: number, extra: Filter[] = []) {
  return {
    queryId: 'laundry-release-gate',
    view: 'calculations',
    limit: 1,
    timeframe: { from: Math.floor(fromMs), to: Math.ceil(toMs) },
    parameters: {
      datasets: ['cloudflare-workers'],
      filterCombination: 'and',
      filters: [
        { key: '$workers.scriptName', operation: 'eq', type: 'string', value: workerName },
        { key: '$workers.scriptVersion.id', operation: 'eq', type: 'string', value: versionId },
        { key: '$workers.eventType', operation: 'eq', type: 'string', value: 'fetch' },
        ...extra,
      ],
      calculations: [
        { operator: 'count', alias: 'requests' },
        { operator: 'p95', key: '$workers.wallTimeMs', keyType: 'number', alias: 'p95' },
      ],
    },
  };
}

/** Reads `result.calculations[].aggregates[0].value` by alias. */
export function aggregateByAlias(body: unknown, alias: string): number | undefined {
  const result = (body as { result?: { calculations?: unknown } } | null)?.result;
  const calculations = Array.isArray(result?.calculations) ? (result.calculations as Record<string, unknown>[]) : [];
  for (const c of calculations) {
    if (c.alias !== alias && c.calculation !== alias) continue;
    const first = Array.isArray(c.aggregates) ? (c.aggregates[0] as { value?: unknown } | undefined) : undefined;
    if (first === undefined) return 0; // no matching events
    return typeof first.value === 'number' ? first.value : undefined;
  }
  return undefined;
}

export function cloudflareObservability(opts: CloudflareObservabilityOptions): ObservabilitySource {
  const url = `${opts.apiBase ?? 'https://api.cloudflare.com/client/v4'}/accounts/${opts.accountId}/workers/observability/telemetry/query`;
  const query = async (body: unknown) => {
    const res = await opts.fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${opts.apiToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => null)) as { success?: boolean; errors?: { message?: string }[] } | null;
    if (!res.ok || json?.success === false) {
      throw new Error(`telemetry query: HTTP ${res.status} ${json?.errors?.map((e) => e.message).join('; ') ?? ''}`.trim());
    }
    return json;
  };
  return {
    name: 'workers-observability',
    async stats({ workerName, versionId, fromMs, toMs }): Promise<VersionStats | undefined> {
      const all = await query(telemetryQuery(workerName, versionId, fromMs, toMs));
      const failed = await query(
        telemetryQuery(workerName, versionId, fromMs, toMs, [
          { key: '$workers.event.response.status', operation: 'gte', type: 'number', value: 500 },
        ]),
      );
      const requests = aggregateByAlias(all, 'requests');
      const p95 = aggregateByAlias(all, 'p95');
      const errors = aggregateByAlias(failed, 'requests');
      if (requests === undefined || errors === undefined) throw new Error('unexpected telemetry response shape');
      return { requests, errors, errorRate: requests === 0 ? 0 : errors / requests, p95Ms: p95 ?? 0 };
    },
  };
}
