/**
 * The gate's rules, its watch loop and its Prometheus client on a scripted `fetch` and a fake
 * clock (the real Prometheus cases are in test/node/k8s-gate.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { GATE_DEFAULTS, gateQueries, runGate, type GateOptions } from '../../tools/k8s-gate/gate.js';
import { DEFAULT_LIMITS, judge, summarise, type VersionStats } from '../../tools/k8s-gate/rules.js';
import { gateOptionsFrom, main } from '../../tools/k8s-gate/index.js';
import { PrometheusError, parseSampleValue, queryVector } from '../../tools/k8s-gate/prometheus.js';

const NEW = 'b'.repeat(40);
const OLD = 'a'.repeat(40);

function stats(requests: number, errors: number, p95: number | null, routes: VersionStats['routes'] = []): VersionStats {
  return { pods: 1, versions: [], requests, errors5xx: errors, errorRatio: requests ? errors / requests : null, p95Seconds: p95, routes };
}
const rules = (n: VersionStats, o: VersionStats = stats(0, 0, null)) => judge({ new: n, old: o }, DEFAULT_LIMITS).breaches.map((b) => b.rule);

describe('judge', () => {
  it('absolute 5xx ratio over 2% breaches from 100 requests; at 2% exactly it does not', () => {
    expect(rules(stats(1000, 21, 0.05))).toEqual(['error_ratio']);
    expect(rules(stats(1000, 20, 0.05))).toEqual([]);
  });

  it('below 100 requests: only 5xx that keep the ratio over 2% whatever comes next (more than 2) breach', () => {
    expect(rules(stats(10, 2, 5))).toEqual([]); // p95 of 5 s on 10 requests is not judged
    expect(rules(stats(10, 3, null))).toEqual(['error_ratio']);
    expect(judge({ new: stats(10, 2, null), old: stats(0, 0, null) }, DEFAULT_LIMITS).lowTraffic).toBe(true);
  });

  it('compared with the old version: 5xx ratio more than 1 point above it, p95 over 2× (once over 0.25 s)', () => {
    const old = stats(1000, 1, 0.1);
    expect(rules(stats(1000, 15, 0.1), old)).toEqual(['error_ratio_vs_old']); // 1.5% vs 0.1%
    expect(rules(stats(1000, 5, 0.1), old)).toEqual([]);
    expect(rules(stats(1000, 0, 0.3), old)).toEqual(['p95_vs_old']);
    expect(rules(stats(1000, 0, 0.2), old)).toEqual([]); // 2× but under the floor
    expect(rules(stats(1000, 0, 0.3), stats(50, 0, 0.1))).toEqual([]); // too few old requests to compare
    expect(rules(stats(1000, 0, 1.5), old)).toEqual(['p95', 'p95_vs_old']);
  });

  it('one route failing breaches even when the overall ratio is under 2%', () => {
    const routes = [{ route: '/v1/orders', method: 'POST', requests: 20, errors5xx: 20, errorRatio: 1 }];
    expect(rules(stats(2000, 20, 0.05, routes))).toEqual(['route_error_ratio']);
    const few = [{ route: '/v1/orders', method: 'POST', requests: 3, errors5xx: 3, errorRatio: 1 }];
    expect(rules(stats(2000, 3, 0.05, few))).toEqual(['route_error_ratio']); // 3 > 10% of 20
  });
});

describe('summarise and the queries', () => {
  it('splits by version and counts 5xx by status class', () => {
    const s = (version: string, route: string, status: string, value: number) => ({ metric: { version, method: 'GET', route, status }, value });
    const out = summarise(
      NEW,
      [{ metric: { version: NEW }, value: 2 }, { metric: { version: OLD }, value: 3 }],
      [s(NEW, '/v1/orders', '200', 90), s(NEW, '/v1/orders', '503', 10), s(NEW, 'unmatched', '404', 5), s(OLD, '/v1/orders', '200', 50)],
      [{ metric: { version: NEW }, value: 0.2 }, { metric: { version: OLD }, value: NaN }],
    );
    expect(out.new).toMatchObject({ pods: 2, versions: [NEW], requests: 105, errors5xx: 10, p95Seconds: 0.2 });
    expect(out.new.routes[0]).toMatchObject({ route: '/v1/orders', requests: 100, errors5xx: 10, errorRatio: 0.1 });
    expect(out.old).toMatchObject({ pods: 3, versions: [OLD], requests: 50, errors5xx: 0, errorRatio: 0, p95Seconds: null });
  });

  it('queries stay in the namespace and job, leave the probe routes out and join on the target labels', () => {
    const q = gateQueries({ namespace: 'laundry-production', job: 'laundry-api', joinOn: GATE_DEFAULTS.joinOn, excludeRoutes: GATE_DEFAULTS.excludeRoutes }, 330.2);
    expect(q.requests).toContain('http_requests_total{namespace="laundry-production", job="laundry-api", route!~"/healthz|/readyz|/metrics"}[331s]');
    expect(q.requests).toContain('* on (job, instance, namespace, pod) group_left (version) max by (job, instance, namespace, pod, version) (max_over_time(app_info{namespace="laundry-production", job="laundry-api"}[331s]))');
    expect(q.p95).toMatch(/^histogram_quantile\(0\.95, sum by \(version, le\)/);
  });
});

/** A Prometheus answering from a script: one entry per HTTP request (a status and body, or a network error). */
function scriptedFetch(answers: (() => Response | Error)[], seen: Request[] = []): typeof fetch {
  let i = 0;
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push(new Request(input, init));
    const answer = (answers[Math.min(i++, answers.length - 1)] ?? (() => new Error('no answer')))();
    if (answer instanceof Error) throw new TypeError('fetch failed', { cause: answer });
    return answer;
  }) as typeof fetch;
}
const vector = (result: unknown[]) => () => Response.json({ status: 'success', data: { resultType: 'vector', result } });
const healthy = (query: string) => {
  if (query.startsWith('count by')) return [{ metric: { version: NEW }, value: [0, '3'] }];
  if (query.startsWith('histogram_quantile')) return [{ metric: { version: NEW }, value: [0, '0.05'] }];
  return [{ metric: { version: NEW, method: 'GET', route: '/v1/orders', status: '200' }, value: [0, '500'] }];
};
/** A Prometheus that answers each query by its text, after `down` failed requests. */
function prometheusByQuery(answer: (query: string) => unknown[], down = 0): typeof fetch {
  let n = 0;
  return (async (_input: RequestInfo | URL, init?: RequestInit) => {
    if (n++ < down) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.1:9090') });
    const query = new URLSearchParams(String(init!.body)).get('query')!;
    return Response.json({ status: 'success', data: { resultType: 'vector', result: answer(query) } });
  }) as typeof fetch;
}

function options(fetchImpl: typeof fetch, over: Partial<GateOptions> = {}): GateOptions {
  let clock = 0;
  return {
    prometheus: { url: 'http://prom.test', timeoutMs: 1000, fetch: fetchImpl },
    namespace: 'laundry-production',
    version: NEW,
    ...GATE_DEFAULTS,
    durationS: 60,
    intervalS: 15,
    limits: DEFAULT_LIMITS,
    now: () => clock,
    sleep: async (ms) => void (clock += ms),
    ...over,
  };
}

describe('runGate', () => {
  it('watches to the end and passes a healthy version', async () => {
    const r = await runGate(options(prometheusByQuery(healthy)));
    expect(r).toMatchObject({ verdict: 'pass', exitCode: 0, evaluations: 5, failedEvaluations: 0, durationS: 60 });
  });

  it('a blip (Prometheus unreachable for the first ticks) does not decide: the final evaluation does', async () => {
    const r = await runGate(options(prometheusByQuery(healthy, 6)));
    expect(r.verdict).toBe('pass');
    expect(r.failedEvaluations).toBe(2);
    expect(r.warnings.join()).toMatch(/2 of 5 evaluations failed/);
  });

  it('unreachable at the end, after 3 more tries: inconclusive, exit 2', async () => {
    const r = await runGate(options(scriptedFetch([() => new Error('connect ECONNREFUSED')])));
    expect(r).toMatchObject({ verdict: 'inconclusive', exitCode: 2, evaluations: 8, failedEvaluations: 8 });
    expect(r.lastError).toMatch(/did not answer: connect ECONNREFUSED/);
  });

  it('stops at the first breach', async () => {
    const failing = (q: string) =>
      q.startsWith('sum by (version, method')
        ? [{ metric: { version: NEW, method: 'POST', route: '/v1/orders', status: '500' }, value: [0, '30'] }, { metric: { version: NEW, method: 'GET', route: '/v1/orders', status: '200' }, value: [0, '300'] }]
        : healthy(q);
    const r = await runGate(options(prometheusByQuery(failing)));
    expect(r).toMatchObject({ verdict: 'breach', exitCode: 1, evaluations: 1 });
    expect(r.last!.breaches.map((b) => b.rule)).toEqual(['error_ratio', 'route_error_ratio']);
  });
});

describe('queryVector', () => {
  it('sends the query as a form POST with the bearer token, and reads NaN and ±Inf', async () => {
    const seen: Request[] = [];
    const out = await queryVector(
      { url: 'https://prom.test/prometheus/', token: 'tok', timeoutMs: 1000, fetch: scriptedFetch([vector([{ metric: { a: '1' }, value: [1, 'NaN'] }, { metric: {}, value: [1, '+Inf'] }])], seen) },
      'up',
    );
    expect(out.map((s) => s.value)).toEqual([NaN, Infinity]);
    expect(seen[0]!.url).toBe('https://prom.test/prometheus/api/v1/query');
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer tok');
    expect(await seen[0]!.text()).toBe('query=up');
  });

  it.each([
    ['a refused query', () => Response.json({ status: 'error', errorType: 'bad_data', error: 'parse error' }, { status: 400 }), 'query', /bad_data.*parse error/],
    ['a 503 page', () => new Response('<html>maintenance</html>', { status: 503 }), 'http', /HTTP 503/],
    ['a 200 that is not the API', () => new Response('<html>login</html>', { status: 200 }), 'shape', /not a Prometheus/],
    ['a matrix', () => Response.json({ status: 'success', data: { resultType: 'matrix', result: [] } }), 'shape', /instant-vector/],
  ])('%s is a PrometheusError, never a zero', async (_name, answer, kind, message) => {
    const err = await queryVector({ url: 'http://prom.test', timeoutMs: 1000, fetch: scriptedFetch([answer]) }, 'up').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).kind).toBe(kind);
    expect((err as Error).message).toMatch(message);
  });

  it('a sample value that is not a number is refused', () => {
    expect(() => parseSampleValue('abc')).toThrow(PrometheusError);
    expect(parseSampleValue('-Inf')).toBe(-Infinity);
  });
});

describe('command line', () => {
  it('reads the URL and token from the environment, never the token from a flag', () => {
    const { options: o } = gateOptionsFrom(['--namespace', 'laundry-staging', '--version', NEW, '--duration', '30'], { PROMETHEUS_URL: 'http://p:9090', PROMETHEUS_TOKEN: 't' });
    expect(o).toMatchObject({ namespace: 'laundry-staging', version: NEW, durationS: 30, intervalS: 15, lowTraffic: 'fail', prometheus: { url: 'http://p:9090', token: 't' } });
    expect(() => gateOptionsFrom(['--namespace', 'n', '--version', 'v', '--token', 'x'], { PROMETHEUS_URL: 'http://p' })).toThrow(/token/);
  });

  it.each([
    [['--version', NEW], { PROMETHEUS_URL: 'http://p' }],
    [['--namespace', 'n', '--version', NEW], {}],
    [['--namespace', 'n', '--version', NEW, '--max-error-ratio', '2'], { PROMETHEUS_URL: 'http://p' }],
    [['--namespace', 'n', '--version', NEW, '--low-traffic', 'maybe'], { PROMETHEUS_URL: 'http://p' }],
    [['--namespace', 'n', '--version', NEW, '--interval', '0'], { PROMETHEUS_URL: 'http://p' }],
  ])('bad arguments %j exit 64', async (argv, env) => {
    expect(await main(argv, env, () => {})).toBe(64);
  });
});
