/**
 * The one Prometheus call the gate makes: an instant query through the HTTP API,
 * `POST /api/v1/query` (form-encoded, so long PromQL never meets a URL length limit).
 * Source: https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
 *
 * Plain `fetch`: three queries per tick need no client library, and the API's envelope
 * (`{status, data: {resultType, result}}` or `{status: "error", errorType, error}`) is checked
 * here field by field, so an answer that is not Prometheus's is an error, never a zero.
 */

/** Why a query gave no usable answer. Every kind makes the evaluation fail; none is a number. */
export class PrometheusError extends Error {
  constructor(
    message: string,
    /** unreachable: no HTTP answer (refused, DNS, timeout); http: a non-2xx answer; query: Prometheus refused the query; shape: not the API's envelope. */
    readonly kind: 'unreachable' | 'http' | 'query' | 'shape',
  ) {
    super(message);
    this.name = 'PrometheusError';
  }
}

export interface PrometheusClient {
  /** The base URL, e.g. https://prometheus.example.com (a path prefix such as /prometheus is kept). */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set (a reverse proxy or Prometheus's own web.config). */
  token?: string;
  /** Per request, ms. */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** One element of an instant vector: its labels and its value (NaN and ±Inf as JavaScript numbers). */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** Prometheus writes sample values as strings: "1.5", "NaN", "+Inf", "-Inf". */
export function parseSampleValue(raw: unknown): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (Number.isNaN(n)) throw new PrometheusError(`sample value ${JSON.stringify(raw)} is not a number`, 'shape');
  return n;
}

/** Runs `query` at the server's current time; resolves the instant vector, or rejects with PrometheusError. */
export async function queryVector(client: PrometheusClient, query: string): Promise<Sample[]> {
  const endpoint = `${client.url.replace(/\/+$/, '')}/api/v1/query`;
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  if (client.token) headers.Authorization = `Bearer ${client.token}`;
  let res: Response;
  try {
    res = await (client.fetch ?? fetch)(endpoint, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ query }).toString(),
      signal: AbortSignal.timeout(client.timeoutMs),
    });
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new PrometheusError(`Prometheus at ${client.url} did not answer: ${cause}`, 'unreachable');
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const envelope = body as { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } } | undefined;
  if (envelope?.status === 'error') {
    throw new PrometheusError(`Prometheus refused the query (HTTP ${res.status}, ${String(envelope.errorType)}): ${String(envelope.error)}`, 'query');
  }
  if (!res.ok) throw new PrometheusError(`Prometheus answered HTTP ${res.status}: ${text.slice(0, 200)}`, 'http');
  if (envelope?.status !== 'success' || envelope.data?.resultType !== 'vector' || !Array.isArray(envelope.data.result)) {
    throw new PrometheusError(`not a Prometheus instant-vector answer: ${text.slice(0, 200)}`, 'shape');
  }
  return envelope.data.result.map((r: unknown) => {
    const row = r as { metric?: unknown; value?: unknown };
    if (typeof row.metric !== 'object' || row.metric === null || !Array.isArray(row.value) || row.value.length !== 2) {
      throw new PrometheusError(`not a vector sample: ${JSON.stringify(r).slice(0, 200)}`, 'shape');
    }
    return { metric: row.metric as Record<string, string>, value: parseSampleValue(row.value[1]) };
  });
}
