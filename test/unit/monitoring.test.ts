/**
 * deploy/monitoring/ against the app: every metric the alert rules and the dashboard read is
 * one the app exports (or an infrastructure metric named here on purpose), every label they
 * match on exists, and every alert has a promtool test that fires and one that stays quiet.
 * The rules' kinds are checked so the next rule cannot drop them: every aggregation and join
 * keeps `namespace` and every firing case names it; request ratios and latencies leave the
 * probe and metrics routes out. With promtool here (required under REQUIRE_TOOLS=1) the rule
 * tests run too (`npm run test:alerts` is the same) and every dashboard query is parsed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { describeWithTools, PROMTOOL } from '../support/tools.js';

const dir = join(import.meta.dirname, '../../deploy/monitoring');
const read = (path: string) => readFileSync(join(dir, path), 'utf8');

/** Scraped from Kubernetes, not from the app: kube-state-metrics, cAdvisor, Prometheus itself. */
const INFRASTRUCTURE = new Set([
  'up',
  'kube_pod_status_ready',
  'kube_pod_status_phase',
  'kube_pod_container_status_restarts_total',
  'kube_pod_container_resource_limits',
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
  'kube_cronjob_status_last_successful_time',
  'kube_cronjob_created',
  'kube_deployment_created',
]);
/** Labels Prometheus adds to every app series (scrape-config.yml). */
const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod'];

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** Metric names an expression reads: identifiers left once strings, matchers, ranges, label lists and calls are gone. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (!m[2] && !NOT_METRICS.has(m[1]!)) names.add(m[1]!);
  }
  return [...names];
}

/** `name{label="…", …}` selectors in an expression, with the label names they match on. */
function selectors(expr: string): Array<{ metric: string; labels: string[] }> {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)].map((m) => ({
    metric: m[1]!,
    labels: [...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!),
  }));
}

/** The job label every scrape job gives its series: a relabel to `job`, else its job_name. */
interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  relabel_configs?: Array<{ target_label?: string; replacement?: string; source_labels?: string[] }>;
}
const scrapeConfigs = (parse(read('prometheus/scrape-config.yml')) as { scrape_configs: ScrapeConfig[] }).scrape_configs;
const jobLabelOf = (c: ScrapeConfig) => c.relabel_configs?.find((r) => r.target_label === 'job' && !r.source_labels)?.replacement ?? c.job_name;

/**
 * The routes only machines call: the kubelet's probes (the Deployment's httpGet paths) and
 * Prometheus's scrape (metrics_path). Each is a fixed path, so its `route` label is the path.
 */
const deployment = parse(readFileSync(join(import.meta.dirname, '../../deploy/k8s/base/deployment.yaml'), 'utf8')) as {
  spec: { template: { spec: { containers: Array<Record<string, { httpGet?: { path: string } }>> } } };
};
const PROBE_ROUTES = [
  ...new Set([
    ...['startupProbe', 'readinessProbe', 'livenessProbe'].map((p) => deployment.spec.template.spec.containers[0]![p]!.httpGet!.path),
    ...scrapeConfigs.map((c) => c.metrics_path ?? '/metrics'),
  ]),
];
/** Real routes (patterns as the route label has them) that a probe exclusion must keep. */
const REAL_ROUTES = ['/v1/orders', '/v1/orders/:id', '/v1/services', '/v1/auth/login', '/openapi.json', '/docs', 'unmatched'];

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(read('prometheus/alerts.yml')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);

/**
 * Where a rule loses the namespace: an aggregation that is not `by (…namespace…)` (a bare
 * `sum(`, or `without (…)`), a join `on (…)` without it or `ignoring (…namespace…)`, or a
 * summary that does not name it. `or on ()` is allowed: "only when the left side found
 * nothing", the absent() fallback of LaundryApiMetricsAbsent.
 */
function namespaceProblems(r: Pick<AlertRule, 'alert' | 'expr' | 'annotations'>): string[] {
  const problems: string[] = [];
  const expr = r.expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of expr.matchAll(/\b(sum|min|max|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values)\s*(by|without)?\s*(\([^)]*\))?\s*\(/g)) {
    if (m[2] !== 'by' || !/\bnamespace\b/.test(m[3] ?? '')) problems.push(`${r.alert}: "${m[0]}" does not aggregate by namespace`);
  }
  for (const m of expr.matchAll(/(\band\b|\bor\b|\bunless\b|[=!<>]=|[-+*/%^<>])\s*(on|ignoring)\s*\(([^)]*)\)/g)) {
    const fallback = m[1] === 'or' && m[2] === 'on' && m[3]!.trim() === '';
    const keeps = m[2] === 'on' ? /\bnamespace\b/.test(m[3]!) : !/\bnamespace\b/.test(m[3]!);
    if (!keeps && !fallback) problems.push(`${r.alert}: "${m[0]}" joins across namespaces`);
  }
  if (!r.annotations?.summary?.includes('{{ $labels.namespace }}')) problems.push(`${r.alert}: the summary does not name {{ $labels.namespace }}`);
  return problems;
}

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
const dashboard = JSON.parse(read('grafana/dashboards/laundry-api.json')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: unknown }> };
};
const panelExprs = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
const variableMetrics = dashboard.templating.list.flatMap((v) => {
  const query = typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? '');
  return [...query.matchAll(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/g)].map((m) => ({ title: `$${v.name}`, metric: m[1]! }));
});

/** What the Node app exports: its own registry, with the process default metrics. */
async function exported(): Promise<Map<string, string[]>> {
  const { registry } = createPrometheusMetrics({ version: 'check' });
  const out = new Map<string, string[]>();
  for (const m of await registry.getMetricsAsJSON()) {
    const labels = [...((registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })?.labelNames ?? [])];
    // The typings call it an enum; at run time it is the exposition type's name.
    const type = String(m.type);
    if (type === 'histogram') out.set(`${m.name}_bucket`, [...labels, 'le']);
    if (type === 'summary') out.set(m.name, [...labels, 'quantile']);
    if (type === 'histogram' || type === 'summary') {
      out.set(`${m.name}_sum`, labels);
      out.set(`${m.name}_count`, labels);
    } else {
      out.set(m.name, labels);
    }
  }
  return out;
}

describe('monitoring: alert rules and dashboard against the app', () => {
  it('the app exports every metric the issue names', async () => {
    const names = await exported();
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'orders_created_total',
      'payments_total',
      'webhook_events_total',
      'db_query_duration_seconds_bucket',
      'process_cpu_seconds_total',
      'app_info',
      'payments_outstanding_total',
      'payments_outstanding_amount',
    ]) {
      expect(names.has(name), name).toBe(true);
    }
    expect(names.get('http_requests_total')).toEqual(['method', 'route', 'status']);
    expect(names.get('http_request_duration_seconds_bucket')).toEqual(['method', 'route', 'le']);
    expect(names.get('orders_created_total')).toEqual(['payment_method']);
    expect(names.get('payments_total')).toEqual(['operation', 'outcome']);
    expect(names.get('webhook_events_total')).toEqual(['type', 'outcome']);
    expect(names.get('payments_outstanding_total')).toEqual(['status']);
    expect(names.get('payments_outstanding_amount')).toEqual(['currency']);
  });

  it('reads the extractor right', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (route, le) (rate(http_request_duration_seconds_bucket{job="a", route!~"/x|y"}[5m]))) > 1 and on (route) sum by (route) (rate(x_count[$__rate_interval])) > 0.05',
      ).sort(),
    ).toEqual(['http_request_duration_seconds_bucket', 'x_count']);
    expect(metricNames('sum(rate(a[5m]) * on (instance, job) group_left (version) app_info{version=~"$version"})').sort()).toEqual(['a', 'app_info']);
    expect(metricNames('absent(up{job="laundry-api"})')).toEqual(['up']);
  });

  it('every metric in the alert rules and the dashboard is exported by the app or is named infrastructure', async () => {
    const names = await exported();
    const used = [
      ...rules.flatMap((r) => metricNames(r.expr).map((metric) => ({ where: `alert ${r.alert}`, metric }))),
      ...panelExprs.flatMap((p) => metricNames(p.expr).map((metric) => ({ where: `panel ${p.title}`, metric }))),
      ...variableMetrics.map((v) => ({ where: `variable ${v.title}`, metric: v.metric })),
    ];
    expect(used.length).toBeGreaterThan(30);
    const unknown = used.filter((u) => !names.has(u.metric) && !INFRASTRUCTURE.has(u.metric));
    expect(unknown).toEqual([]);
    // The whitelist holds nothing stale.
    const usedNames = new Set(used.map((u) => u.metric));
    expect([...INFRASTRUCTURE].filter((m) => !usedNames.has(m))).toEqual([]);
  });

  it('every label matched on an app metric is one of its labels', async () => {
    const names = await exported();
    const bad = [...rules.map((r) => r.expr), ...panelExprs.map((p) => p.expr)]
      .flatMap(selectors)
      .filter((s) => names.has(s.metric))
      .flatMap((s) => s.labels.filter((l) => ![...names.get(s.metric)!, ...TARGET_LABELS].includes(l)).map((l) => `${s.metric}{${l}}`));
    expect(bad).toEqual([]);
  });

  it('every alert has a severity, a summary and a runbook link, and the job the scrape config defines', () => {
    // One job label for every namespace's API scrape job, and one for the notifications worker's
    // (its pods send, so the delivery counter is theirs; never "laundry-api", which the API's rules and the rollout gate read).
    const jobs = [...new Set(scrapeConfigs.map(jobLabelOf))];
    expect(jobs).toEqual(['laundry-api', 'laundry-notifications-worker']);
    const job = jobs[0]!;
    expect(rules.length).toBeGreaterThanOrEqual(9);
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const runbook = readFileSync(join(import.meta.dirname, '../../docs/runbook.md'), 'utf8');
    const anchors = new Set(
      [...runbook.matchAll(/^##+ (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')),
    );
    expect(anchors).toContain('monitoring');
    for (const r of rules) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      const link = /^docs\/runbook\.md#(.+)$/.exec(r.annotations?.runbook_url ?? '');
      expect(link && anchors.has(link[1]!), `${r.alert}: ${r.annotations?.runbook_url} is a runbook heading`).toBe(true);
      for (const m of r.expr.matchAll(/\bjob="([^"]+)"/g)) expect(m[1], r.alert).toBe(job);
      // A job regex names only jobs the scrape config defines.
      for (const m of r.expr.matchAll(/\bjob=~"([^"]+)"/g)) for (const alt of m[1]!.split('|')) expect(jobs, r.alert).toContain(alt);
      // The worker's series are only its own: a rule on an API-only metric never reads them by accident.
      if (/\bjob=~"[^"]*laundry-notifications-worker/.test(r.expr)) expect(metricNames(r.expr), r.alert).toEqual(['laundry_notification_deliveries_total']);
    }
    // The delivery counter is the worker's on Kubernetes: every rule reading it includes the worker's job.
    const deliveryRules = rules.filter((r) => metricNames(r.expr).includes('laundry_notification_deliveries_total'));
    expect(deliveryRules.length).toBeGreaterThan(0);
    for (const r of deliveryRules) {
      for (const sel of r.expr.matchAll(/laundry_notification_deliveries_total\{([^}]*)\}/g)) expect(sel[1], r.alert).toMatch(/\bjob=~"(?:[^"|]+\|)*laundry-notifications-worker(?:\|[^"]+)*"/);
    }
  });

  it('every alert has a promtool test where it fires and one where it stays quiet', () => {
    const tests = (parse(read('prometheus/alerts.test.yml')) as {
      rule_files: string[];
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    });
    expect(tests.rule_files).toEqual(['alerts.yml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert} fires somewhere`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert} stays quiet somewhere`).toBe(true);
    }
    expect(cases.filter((c) => !rules.some((r) => r.alert === c.alertname))).toEqual([]);
  });

  it('every rule keeps the namespace: aggregations by it, joins on it, and the alert text names it', () => {
    expect(rules.flatMap(namespaceProblems)).toEqual([]);
    // The check sees what a careless rule does.
    expect(
      namespaceProblems({
        alert: 'Careless',
        expr: 'sum(rate(a{x="sum(y)"}[5m])) / on (route) sum by (route) (rate(b[5m])) and ignoring (namespace) c or on () d',
        annotations: { summary: 'no namespace' },
      }),
    ).toEqual([
      'Careless: "sum(" does not aggregate by namespace',
      'Careless: "sum by (route) (" does not aggregate by namespace',
      'Careless: "/ on (route)" joins across namespaces',
      'Careless: "and ignoring (namespace)" joins across namespaces',
      'Careless: the summary does not name {{ $labels.namespace }}',
    ]);
  });

  it('every alert fires in a promtool case that names its namespace, and a staging-only case fires only there', () => {
    const tests = parse(read('prometheus/alerts.test.yml')) as {
      tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts?: Array<{ exp_labels?: Record<string, string> }> }> }>;
    };
    const firing = tests.tests.flatMap((t) => (t.alert_rule_test ?? []).flatMap((c) => (c.exp_alerts ?? []).map((a) => ({ test: t.name, alert: c.alertname, labels: a.exp_labels ?? {} }))));
    const unnamed = firing.filter((f) => !f.labels.namespace).map((f) => `${f.alert} in "${f.test}"`);
    expect(unnamed).toEqual([]);
    for (const { alert } of rules) expect(firing.some((f) => f.alert === alert), `${alert} fires somewhere`).toBe(true);
    // The kinds the issue names have their cases: a staging spike pages as staging only, and
    // a CronJob that never succeeded fires.
    const stagingOnly = firing.filter((f) => f.alert === 'LaundryApiHighErrorRatio' && f.labels.namespace === 'laundry-staging');
    expect(stagingOnly.length).toBe(1);
    const sameCase = firing.filter((f) => f.test === stagingOnly[0]!.test);
    expect(sameCase.map((f) => f.labels.namespace)).toEqual(['laundry-staging']);
    expect(tests.tests.some((t) => /never succeeded/.test(t.name) && (t.alert_rule_test ?? []).some((c) => c.alertname === 'LaundryApiPaymentsJobNotSucceeding' && (c.exp_alerts ?? []).length > 0))).toBe(true);
  });

  it('every request ratio and latency over routes leaves the probe and metrics routes out, in numerator and denominator', () => {
    const HTTP = /^http_request(s_total|_duration_seconds_(bucket|count|sum))$/;
    /** The `route!~"…"` matcher of a selector's braces, as the anchored regex Prometheus runs. */
    const exclusion = (braces: string) => {
      const m = /\broute\s*!~\s*"((?:[^"\\]|\\.)*)"/.exec(braces);
      return m ? new RegExp(`^(?:${m[1]!.replace(/\\\\/g, '\\')})$`) : undefined;
    };
    const checked: string[] = [];
    const problems: string[] = [];
    const check = (where: string, expr: string) => {
      for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
        if (!HTTP.test(m[1]!)) continue;
        checked.push(where);
        const re = exclusion(m[2]!);
        if (!re) {
          problems.push(`${where}: ${m[1]} counts the probe and metrics routes`);
          continue;
        }
        for (const probe of PROBE_ROUTES) if (!re.test(probe)) problems.push(`${where}: ${probe} is not excluded`);
        for (const real of REAL_ROUTES) if (re.test(real)) problems.push(`${where}: real route ${real} is excluded`);
      }
    };
    for (const r of rules) check(`alert ${r.alert}`, r.expr);
    // A panel split by route shows each route on its own line: the probes distort nothing there.
    for (const p of panelExprs.filter((x) => !/\bby\s*\([^)]*\broute\b/.test(x.expr))) check(`panel ${p.title}`, p.expr);
    expect(problems).toEqual([]);
    // The error ratio and the latency alert are among those checked, and the dashboard's ratios.
    expect(checked).toEqual(expect.arrayContaining(['alert LaundryApiHighErrorRatio', 'alert LaundryApiHighLatencyP95', 'panel Error ratio (5xx, and 4xx)', 'panel 5xx ratio by version']));
    expect(PROBE_ROUTES.sort()).toEqual(['/healthz', '/metrics', '/readyz']);
  });

  it('every dashboard query and variable filters by the namespace variable', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toContain('namespace');
    const namespaceVar = dashboard.templating.list.find((v) => v.name === 'namespace')!;
    expect(JSON.stringify(namespaceVar.query)).toMatch(/label_values\(app_info\{job=\\"laundry-api\\"\}, namespace\)/);
    const unfiltered: string[] = [];
    for (const p of panelExprs) {
      for (const m of p.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
        if (!/\bnamespace="\$namespace"/.test(m[2]!)) unfiltered.push(`${p.title}: ${m[1]}`);
      }
      for (const m of p.expr.matchAll(/\bon\s*\(([^)]*)\)/g)) if (!/\bnamespace\b/.test(m[1]!)) unfiltered.push(`${p.title}: on (${m[1]})`);
    }
    for (const v of dashboard.templating.list.filter((x) => x.name !== 'namespace' && x.name !== 'datasource')) {
      if (!/namespace=\\?"\$namespace\\?"/.test(JSON.stringify(v.query))) unfiltered.push(`variable ${v.name}`);
    }
    expect(panelExprs.length).toBeGreaterThan(15);
    expect(unfiltered).toEqual([]);
  });

  it('the dashboard has the panels the issue asks for, and its provisioning points at it', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const want of ['request rate', 'error ratio', 'p50', 'p95', 'p99', 'orders per hour', 'payment success ratio', 'webhooks by outcome', 'by version']) {
      expect(titles.some((t) => t.includes(want)), want).toBe(true);
    }
    const provider = parse(read('grafana/provisioning/dashboards/laundry-api.yml')) as { apiVersion: number; providers: Array<{ type: string; options: { path: string } }> };
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: expect.stringMatching(/^\//) } });
    const datasources = parse(read('grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ type: string }> };
    expect(datasources.datasources[0]!.type).toBe('prometheus');
  });
});

// promtool parses PromQL and runs the rule tests for real; REQUIRE_TOOLS=1 (.ci/run) makes it required.
describeWithTools([PROMTOOL], 'monitoring: promtool', () => {
  // promtool evaluates every case's series minute by minute: seconds, more on a loaded machine.
  // The bound only stops a hung process.
  it('the alert rules pass their promtool tests (npm run test:alerts)', { timeout: 120_000 }, () => {
    const rulesDir = join(dir, 'prometheus');
    const check = execFileSync('promtool', ['check', 'rules', join(rulesDir, 'alerts.yml')], { encoding: 'utf8' });
    expect(check).toContain(`SUCCESS: ${rules.length} rules found`);
    // promtool resolves rule_files against the test file's folder.
    const out = execFileSync('promtool', ['test', 'rules', join(rulesDir, 'alerts.test.yml')], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('every dashboard query is valid PromQL', { timeout: 60_000 }, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      const recording = panelExprs.map((p, i) => ({
        record: `dashboard:query_${i}`,
        expr: p.expr.replaceAll('$__rate_interval', '5m').replaceAll('$version', '.*').replaceAll('$namespace', 'laundry-production'),
      }));
      writeFileSync(join(tmp, 'dashboard.rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
      const out = execFileSync('promtool', ['check', 'rules', join(tmp, 'dashboard.rules.yml')], { encoding: 'utf8' });
      expect(out).toContain(`SUCCESS: ${recording.length} rules found`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
