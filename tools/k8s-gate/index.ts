/**
 * `npm run gate:k8s -- --namespace laundry-production --version <git sha> [options]`
 *
 * Watches the new version's pods in Prometheus after `kubectl rollout status` (tools/k8s-gate/gate.ts)
 * and exits 0 (pass), 1 (breach) or 2 (inconclusive: Prometheus unreachable or answering errors,
 * the new pods not scraped, or too little traffic with --low-traffic fail). Usage errors exit 64.
 * The Prometheus base URL comes from --prometheus-url or PROMETHEUS_URL, an optional bearer
 * token from PROMETHEUS_TOKEN (never a flag: it would show in the process list and the logs).
 *
 * Writes the human report to stdout, and the JSON report to --report <file> and the human one to
 * --summary <file> when asked. Arguments are read with node:util parseArgs (no library needed).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runIfEntryPoint } from '../shared/entry.js';
import { GATE_DEFAULTS, runGate, type GateOptions, type GateReport } from './gate.js';
import { formatReport } from './report.js';
import { DEFAULT_LIMITS, type GateLimits } from './rules.js';

export const USAGE = `usage: npm run gate:k8s -- --namespace <ns> --version <APP_VERSION> [options]
  --prometheus-url <url>         default $PROMETHEUS_URL (bearer token: $PROMETHEUS_TOKEN, optional)
  --job <name>                   scrape job (default ${GATE_DEFAULTS.job})
  --duration <s>                 watch this long (default ${GATE_DEFAULTS.durationS})
  --interval <s>                 between evaluations (default ${GATE_DEFAULTS.intervalS})
  --lookback <s>                 history before the start that counts (default ${GATE_DEFAULTS.lookbackS})
  --join-on <labels>             comma-separated target labels (default ${GATE_DEFAULTS.joinOn.join(',')})
  --exclude-routes <routes>      comma-separated route labels left out (default ${GATE_DEFAULTS.excludeRoutes.join(',')})
  --max-error-ratio <0..1>       default ${DEFAULT_LIMITS.maxErrorRatio}
  --max-error-ratio-increase <0..1>  over the old version's, default ${DEFAULT_LIMITS.maxErrorRatioIncrease}
  --max-p95 <s>                  default ${DEFAULT_LIMITS.maxP95Seconds}
  --max-p95-factor <x>           times the old version's, default ${DEFAULT_LIMITS.maxP95Factor}
  --p95-floor <s>                the factor applies from this p95 up, default ${DEFAULT_LIMITS.p95FloorSeconds}
  --min-requests <n>             default ${DEFAULT_LIMITS.minRequests}
  --max-route-error-ratio <0..1> default ${DEFAULT_LIMITS.maxRouteErrorRatio}
  --min-route-requests <n>       default ${DEFAULT_LIMITS.minRouteRequests}
  --low-traffic pass|fail        at the end with too few requests (default ${GATE_DEFAULTS.lowTraffic})
  --query-timeout <s>            per Prometheus request (default 10)
  --report <file>                write the JSON report
  --summary <file>               write the human report
exit: 0 pass, 1 breach, 2 inconclusive, 64 usage`;

export class UsageError extends Error {}

const LIMIT_FLAGS: Record<string, keyof GateLimits> = {
  'max-error-ratio': 'maxErrorRatio',
  'max-error-ratio-increase': 'maxErrorRatioIncrease',
  'max-p95': 'maxP95Seconds',
  'max-p95-factor': 'maxP95Factor',
  'p95-floor': 'p95FloorSeconds',
  'min-requests': 'minRequests',
  'max-route-error-ratio': 'maxRouteErrorRatio',
  'min-route-requests': 'minRouteRequests',
};

/** Options (and output files) from argv and the environment; throws UsageError naming the bad argument. */
export function gateOptionsFrom(argv: string[], env: Record<string, string | undefined>): { options: GateOptions; report?: string; summary?: string } {
  const valued = ['namespace', 'version', 'prometheus-url', 'job', 'duration', 'interval', 'lookback', 'join-on', 'exclude-routes', 'low-traffic', 'query-timeout', 'report', 'summary', ...Object.keys(LIMIT_FLAGS)];
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options: Object.fromEntries(valued.map((n) => [n, { type: 'string' as const }])), strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const need = (name: string, value: string | undefined) => {
    if (!value || !value.trim()) throw new UsageError(`--${name} is required`);
    return value.trim();
  };
  const num = (name: string, fallback: number, { positive = false, max }: { positive?: boolean; max?: number } = {}) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (positive && n === 0) || (max !== undefined && n > max)) {
      throw new UsageError(`--${name} must be a ${positive ? 'positive' : 'non-negative'} number${max !== undefined ? ` ≤ ${max}` : ''}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  const list = (name: string, fallback: string[]) => (values[name] === undefined ? fallback : values[name]!.split(',').map((s) => s.trim()).filter(Boolean));
  const url = need('prometheus-url (or PROMETHEUS_URL)', values['prometheus-url'] ?? env.PROMETHEUS_URL);
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`the Prometheus URL must start with http:// or https://, got ${JSON.stringify(url)}`);
  const lowTraffic = values['low-traffic'] ?? GATE_DEFAULTS.lowTraffic;
  if (lowTraffic !== 'pass' && lowTraffic !== 'fail') throw new UsageError(`--low-traffic must be pass or fail, got ${JSON.stringify(lowTraffic)}`);
  const limits = { ...DEFAULT_LIMITS };
  for (const [flag, key] of Object.entries(LIMIT_FLAGS)) limits[key] = num(flag, DEFAULT_LIMITS[key], { max: /ratio/.test(flag) ? 1 : undefined });
  const joinOn = list('join-on', GATE_DEFAULTS.joinOn);
  if (joinOn.length === 0 || joinOn.some((l) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l))) throw new UsageError(`--join-on must be label names, got ${JSON.stringify(values['join-on'])}`);
  const token = env.PROMETHEUS_TOKEN?.trim();
  const options: GateOptions = {
    prometheus: { url, ...(token ? { token } : {}), timeoutMs: num('query-timeout', 10, { positive: true }) * 1000 },
    namespace: need('namespace', values.namespace),
    version: need('version', values.version),
    job: values.job ?? GATE_DEFAULTS.job,
    durationS: num('duration', GATE_DEFAULTS.durationS),
    intervalS: num('interval', GATE_DEFAULTS.intervalS, { positive: true }),
    lookbackS: num('lookback', GATE_DEFAULTS.lookbackS),
    joinOn,
    excludeRoutes: list('exclude-routes', GATE_DEFAULTS.excludeRoutes),
    limits,
    lowTraffic,
  };
  return { options, ...(values.report ? { report: values.report } : {}), ...(values.summary ? { summary: values.summary } : {}) };
}

/** Parses, runs, prints and writes the reports; resolves the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>, out: (line: string) => void = console.log): Promise<number> {
  let parsed: ReturnType<typeof gateOptionsFrom>;
  try {
    parsed = gateOptionsFrom(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`k8s-gate: ${err.message}\n${USAGE}`);
    return 64;
  }
  const { options } = parsed;
  out(
    `k8s-gate: watching version ${options.version} in ${options.namespace} for ${options.durationS} s (every ${options.intervalS} s, lookback ${options.lookbackS} s) at ${options.prometheus.url}${options.prometheus.token ? ' (bearer token)' : ''}`,
  );
  const report: GateReport = await runGate({ ...options, log: out });
  const human = formatReport(report);
  out(human);
  if (parsed.report) writeFileSync(parsed.report, `${JSON.stringify(report, null, 2)}\n`);
  if (parsed.summary) writeFileSync(parsed.summary, `${human}\n`);
  return report.exitCode;
}

runIfEntryPoint(import.meta.url, async () => {
  process.exitCode = await main(process.argv.slice(2), process.env);
});
