/**
 * deploy/monitoring/ against the app: every metric the alert rules and the dashboard read is
 * one the app exports (or an infrastructure metric named here on purpose), every label they
 * match on exists, and every alert has a promtool test that fires and one that stays quiet.
 * The promtool tests themselves run in .ci/run (`promtool test rules`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';

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

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(read('prometheus/alerts.yml')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);

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
    const scrape = parse(read('prometheus/scrape-config.yml')) as { scrape_configs: Array<{ job_name: string }> };
    const job = scrape.scrape_configs[0]!.job_name;
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

  // promtool parses PromQL for real; required in CI (.ci/run installs it), skipped elsewhere without it.
  const promtool = (() => {
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!promtool && process.env.CI !== 'true')('every dashboard query is valid PromQL (promtool)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      const recording = panelExprs.map((p, i) => ({
        record: `dashboard:query_${i}`,
        expr: p.expr.replaceAll('$__rate_interval', '5m').replaceAll('$version', '.*'),
      }));
      writeFileSync(join(tmp, 'dashboard.rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
      const out = execFileSync('promtool', ['check', 'rules', join(tmp, 'dashboard.rules.yml')], { encoding: 'utf8' });
      expect(out).toContain(`SUCCESS: ${recording.length} rules found`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
