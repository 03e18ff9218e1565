/**
 * What Prometheus is configured to scrape (deploy/monitoring/prometheus/scrape-config.yml) is what
 * a production pod serves. The scrape jobs are followed through the manifests (the port name it
 * keeps → the Service port → the container port → PORT in the ConfigMap), then the real server
 * is started as a production pod is (the ConfigMap's values, the Deployment's env, a value for
 * every key of the Secret example) and scraped the way the job says: its metrics_path with its
 * Bearer token gets Prometheus text; no token or another token is refused. A production server
 * without METRICS_TOKEN (or with a short one) refuses to start. With Debian's `prometheus` here,
 * a real Prometheus runs the production job's relabelling and token file against that server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loadNodeServerConfig, MIN_PRODUCTION_METRICS_TOKEN } from '../../src/platform/node/config.js';
import { recreateServerDatabase } from '../setup/databases.js';
import { freePort } from '../support/private-cluster.js';
import { spawnServer, startServer, stopServer, type ServerProcess } from '../support/server-process.js';
import { describeWithTools, PROMETHEUS } from '../support/tools.js';

type Obj = Record<string, any>;
const yamlFile = (path: string): Obj => parseYaml(readFileSync(path, 'utf8')) as Obj;

const K8S = 'deploy/k8s';
const base = yamlFile(`${K8S}/base/kustomization.yaml`);
const resources: Obj[] = (base.resources as string[]).map((r) => yamlFile(`${K8S}/base/${r}`));
const deployment = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === 'laundry-api')!;
/** The notifications worker: it sends, so the delivery counters are in its pods (port `metrics`). */
const worker = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === 'laundry-notifications-worker')!;
const workerContainer = worker.spec.template.spec.containers[0] as Obj;
const service = resources.find((r) => r.kind === 'Service')!;
const container = deployment.spec.template.spec.containers[0] as Obj;
const secretExample = yamlFile(`${K8S}/secret.example.yaml`);
const literals = (k: Obj): Record<string, string> =>
  Object.fromEntries(((k.configMapGenerator?.[0]?.literals ?? []) as string[]).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const overlay = (env: string) => yamlFile(`${K8S}/overlays/${env}/kustomization.yaml`);
/** The ConfigMap a production pod gets: the base's literals merged with the overlay's. */
const productionConfigMap = { ...literals(base), ...literals(overlay('production')) };

interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  scrape_timeout?: string;
  authorization?: { type?: string; credentials_file?: string; credentials?: string };
  kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names: string[] } }>;
  relabel_configs?: Array<{ source_labels?: string[]; regex?: string; action?: string; target_label?: string; replacement?: string }>;
}
const allScrapeJobs = (yamlFile('deploy/monitoring/prometheus/scrape-config.yml') as { scrape_configs: ScrapeJob[] }).scrape_configs;
/** The job label a scrape job gives its series (its relabel to `job`). */
const jobLabel = (job: ScrapeJob) => job.relabel_configs?.find((r) => r.target_label === 'job' && !r.source_labels)?.replacement ?? job.job_name;
const scrapeJobs = allScrapeJobs.filter((j) => jobLabel(j) === 'laundry-api');
const workerJobs = allScrapeJobs.filter((j) => jobLabel(j) === 'laundry-notifications-worker');
const namespaceOf = (job: ScrapeJob) => job.kubernetes_sd_configs?.[0]?.namespaces?.names ?? [];
const productionJob = scrapeJobs.find((j) => namespaceOf(j).includes(overlay('production').namespace as string))!;
const productionWorkerJob = workerJobs.find((j) => namespaceOf(j).includes(overlay('production').namespace as string))!;
/** The regex a `keep` relabelling applies to one meta label, anchored as Prometheus anchors it. */
const keepRegex = (job: ScrapeJob, label: string) => {
  const rule = job.relabel_configs?.find((r) => r.action === 'keep' && r.source_labels?.length === 1 && r.source_labels[0] === label);
  return rule ? new RegExp(`^(?:${rule.regex ?? '(.*)'})$`) : undefined;
};

/** A value for every key of the Secret example, as an operator would create it (never a placeholder). */
function productionSecret(databaseUrl: string, metricsToken: string): Record<string, string> {
  const values: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    JWT_SECRET: randomBytes(48).toString('base64url'),
    STRIPE_SECRET_KEY: `sk_live_${randomBytes(24).toString('hex')}`,
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('hex')}`,
    STRIPE_PUBLISHABLE_KEY: `pk_live_${randomBytes(24).toString('hex')}`,
    METRICS_TOKEN: metricsToken,
  };
  // A key added to the Secret example must be given a value here too.
  expect(Object.keys(values).sort()).toEqual(Object.keys(secretExample.stringData as Obj).sort());
  return values;
}

/** The Deployment's own env entries. NODE_OPTIONS bounds the compiled image's heap; here the server runs through tsx. */
const deploymentEnv = Object.fromEntries(((container.env ?? []) as Obj[]).filter((e) => e.name !== 'NODE_OPTIONS').map((e) => [e.name as string, String(e.value)]));

/** A production pod's environment, listening on a free port of 127.0.0.1 instead of PORT (the port mapping is checked on the manifests). */
const podEnv = (secret: Record<string, string>) => ({ ...productionConfigMap, ...secret, ...deploymentEnv, HOST: '127.0.0.1', PORT: '0' });

function configProblems(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the scrape config against the manifests', () => {
  it('one job per overlay namespace, each with its own Bearer token file, all labelled job="laundry-api" with the namespace', () => {
    const overlayNamespaces = ['staging', 'production'].map((env) => overlay(env).namespace as string).sort();
    expect(scrapeJobs.flatMap(namespaceOf).sort()).toEqual(overlayNamespaces);
    const tokenFiles = new Set<string>();
    for (const job of scrapeJobs) {
      expect(job.kubernetes_sd_configs).toEqual([{ role: 'endpointslice', namespaces: { names: [expect.any(String)] } }]);
      expect(job.authorization?.type).toBe('Bearer');
      expect(job.authorization?.credentials).toBeUndefined(); // never inline in a committed file
      tokenFiles.add(job.authorization!.credentials_file!);
      const relabel = job.relabel_configs ?? [];
      expect(relabel).toContainEqual({ source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' });
      expect(relabel).toContainEqual({ target_label: 'job', replacement: 'laundry-api' });
    }
    // Each namespace has its own Secret, hence its own METRICS_TOKEN: one file each.
    expect(tokenFiles.size).toBe(scrapeJobs.length);
    // The API jobs and the notifications worker's: nothing else.
    expect(allScrapeJobs.length).toBe(scrapeJobs.length + workerJobs.length);
  });

  it('the notifications worker: one job per overlay namespace on its pods’ `metrics` port, that namespace’s token file, job="laundry-notifications-worker"', () => {
    const overlayNamespaces = ['staging', 'production'].map((env) => overlay(env).namespace as string).sort();
    expect(workerJobs.flatMap(namespaceOf).sort()).toEqual(overlayNamespaces);
    const podLabels = worker.spec.template.metadata.labels as Record<string, string>;
    const apiPodLabels = deployment.spec.template.metadata.labels as Record<string, string>;
    const port = (workerContainer.ports as Obj[]).find((p) => p.name === 'metrics')!;
    expect(port.containerPort).toBe(9464);
    // The process listens where the port says (src/platform/node/notifications-worker.ts reads NOTIFICATIONS_WORKER_PORT, default 9464).
    expect((workerContainer.env as Obj[]).find((e) => e.name === 'NOTIFICATIONS_WORKER_PORT')?.value).toBe(String(port.containerPort));
    for (const job of workerJobs) {
      expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: [expect.any(String)] } }]);
      expect(job.metrics_path ?? '/metrics').toBe('/metrics');
      expect(job.authorization?.type).toBe('Bearer');
      expect(job.authorization?.credentials).toBeUndefined();
      // The worker reads the namespace's Secret `laundry-api` too: the same METRICS_TOKEN as the API's job there.
      expect(workerContainer.envFrom).toContainEqual({ secretRef: { name: secretExample.metadata.name } });
      const apiJob = scrapeJobs.find((j) => namespaceOf(j)[0] === namespaceOf(job)[0])!;
      expect(job.authorization!.credentials_file).toBe(apiJob.authorization!.credentials_file);
      // Its pods, by the component label, never the API's; on the container port named `metrics`; running.
      const component = keepRegex(job, '__meta_kubernetes_pod_label_app_kubernetes_io_component')!;
      expect(component.test(podLabels['app.kubernetes.io/component']!)).toBe(true);
      expect(component.test(apiPodLabels['app.kubernetes.io/component']!)).toBe(false);
      const portName = keepRegex(job, '__meta_kubernetes_pod_container_port_name')!;
      expect((workerContainer.ports as Obj[]).filter((p) => portName.test(p.name))).toEqual([port]);
      expect(portName.test('http')).toBe(false);
      expect(keepRegex(job, '__meta_kubernetes_pod_phase')!.test('Running')).toBe(true);
      const relabel = job.relabel_configs ?? [];
      expect(relabel).toContainEqual({ source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' });
      expect(relabel).toContainEqual({ source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' });
      expect(relabel).toContainEqual({ target_label: 'job', replacement: 'laundry-notifications-worker' });
    }
  });

  it('the port it keeps is the Service port whose target is the container port serving PORT, and its path is /metrics', () => {
    for (const job of scrapeJobs) {
      expect(keepRegex(job, '__meta_kubernetes_service_name')!.test(service.metadata.name)).toBe(true);
      expect(keepRegex(job, '__meta_kubernetes_service_name')!.test(`${service.metadata.name}-canary`)).toBe(false);
      // endpointslice discovery names each endpoint port after the Service port.
      const portName = keepRegex(job, '__meta_kubernetes_endpointslice_port_name')!;
      const servicePorts = (service.spec.ports as Obj[]).filter((p) => portName.test(p.name));
      expect(servicePorts.length).toBe(1);
      const target = servicePorts[0]!.targetPort;
      const containerPort = (container.ports as Obj[]).find((p) => p.name === target || p.containerPort === target)!;
      expect(containerPort).toBeDefined();
      expect(containerPort.containerPort).toBe(Number(productionConfigMap.PORT));
      expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    }
    // The Service selects the Deployment's pods: its endpoints are those pods.
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  it('every variable the Node server requires in production comes from the Secret, and the example’s placeholder is refused', () => {
    const required = configProblems(() => loadNodeServerConfig({ APP_ENV: 'production' })).map((p) => p.split(':')[0]!);
    expect(required).toEqual(['METRICS_TOKEN']);
    expect(container.envFrom).toContainEqual({ secretRef: { name: secretExample.metadata.name } });
    for (const name of required) {
      expect(Object.keys(secretExample.stringData as Obj)).toContain(name);
      expect(productionConfigMap[name]).toBeUndefined();
    }
    // The example's value is long enough for the Node check but a placeholder for the shared one.
    const example = (secretExample.stringData as Record<string, string>).METRICS_TOKEN!;
    expect(example.length).toBeGreaterThanOrEqual(MIN_PRODUCTION_METRICS_TOKEN);
    expect(configProblems(() => loadConfig({ ...productionConfigMap, ...(secretExample.stringData as Record<string, string>) }))).toContain(
      'METRICS_TOKEN: must be at least 16 characters and not a placeholder',
    );
  });

  it('requires METRICS_TOKEN with 32+ characters in production only; development keeps an optional token', () => {
    expect(configProblems(() => loadNodeServerConfig({ APP_ENV: 'production' }))).toEqual([
      'METRICS_TOKEN: is required when APP_ENV=production (at least 32 characters): Prometheus scrapes /metrics with it',
    ]);
    expect(configProblems(() => loadNodeServerConfig({ APP_ENV: 'production', METRICS_TOKEN: 'x'.repeat(31) }))).toEqual([
      'METRICS_TOKEN: must be at least 32 characters when APP_ENV=production',
    ]);
    expect(configProblems(() => loadNodeServerConfig({ APP_ENV: 'production', METRICS_TOKEN: 'x'.repeat(32) }))).toEqual([]);
    expect(configProblems(() => loadNodeServerConfig({ APP_ENV: 'development' }))).toEqual([]);
    expect(configProblems(() => loadNodeServerConfig({ METRICS_TOKEN: 'sixteen-chars-ok' }))).toEqual([]);
  });
});

// Each test starts the real entry (tsx, Argon2 threads): seconds on a quiet machine, much more on
// a loaded 2-core runner. The bounds only stop a hung process; no assertion is about speed.
describe('a production pod', { timeout: 180_000 }, () => {
  const metricsToken = randomBytes(48).toString('base64url');
  const serverDb = process.env.TEST_DATABASE_URL;
  const dbName = 'laundry_metrics_scrape';
  let databaseUrl: string;
  let pod: ServerProcess & { url: string };
  /** A notifications worker pod beside it (its tables need the migrated server database). */
  let workerPod: (ServerProcess & { url: string }) | undefined;

  beforeAll(async () => {
    // On the PostgreSQL server when the run has one (migrated, as the migration Job leaves it);
    // else a database nobody answers: /metrics must still be served (readiness is what fails).
    databaseUrl = serverDb ? await recreateServerDatabase(serverDb, dbName) : `postgres://app:${randomBytes(8).toString('hex')}@127.0.0.1:9/laundry`;
    pod = await startServer(podEnv(productionSecret(databaseUrl, metricsToken)));
    if (serverDb) {
      // As the worker Deployment runs it: its command, the same ConfigMap and Secret, its own env (port on a free one here).
      const port = await freePort();
      const ownEnv = Object.fromEntries(((workerContainer.env ?? []) as Obj[]).filter((e) => e.name !== 'NODE_OPTIONS').map((e) => [e.name as string, String(e.value)]));
      const [, script, command] = workerContainer.command as string[];
      expect(script).toBe('dist/src/node.js');
      const proc = spawnServer({ ...productionConfigMap, ...productionSecret(databaseUrl, metricsToken), ...ownEnv, HOST: '127.0.0.1', NOTIFICATIONS_WORKER_PORT: String(port) }, ['src/node.ts', command!]);
      workerPod = { ...proc, url: `http://127.0.0.1:${port}` };
      for (let i = 0; !/notifications worker started/.test(proc.output()); i++) {
        if (proc.child.exitCode !== null || i > 1200) throw new Error(`the notifications worker did not start:\n${proc.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }, 180_000);

  afterAll(async () => {
    if (workerPod) expect(await stopServer(workerPod), workerPod.output()).toBe(0);
    if (pod) expect(await stopServer(pod), pod.output()).toBe(0);
    if (serverDb) {
      const admin = new pg.Client({ connectionString: serverDb });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}${process.env.TEST_DB_SUFFIX ?? ''} WITH (FORCE)`);
      await admin.end();
    }
  }, 60_000);

  const scrape = (headers: Record<string, string> = {}) => fetch(`${pod.url}${productionJob.metrics_path ?? '/metrics'}`, { headers });
  const bearer = (token: string) => ({ authorization: `${productionJob.authorization!.type} ${token}` });

  it.runIf(Boolean(serverDb))('the notifications worker answers its job’s scrape on its `metrics` port: the delivery counter, only with the token', async () => {
    const res = await fetch(`${workerPod!.url}${productionWorkerJob.metrics_path ?? '/metrics'}`, { headers: { authorization: `${productionWorkerJob.authorization!.type} ${metricsToken}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('# TYPE laundry_notification_deliveries_total counter');
    expect(text).toMatch(/^app_info\{version="[^"]+",runtime="node"\} 1$/m);
    expect((await fetch(`${workerPod!.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${workerPod!.url}/metrics`, { headers: { authorization: `Bearer ${randomBytes(48).toString('base64url')}` } })).status).toBe(401);
    expect((await fetch(`${workerPod!.url}/healthz`)).status).toBe(200);
  });

  it('runs in production mode: no demo seed, no /docs', async () => {
    expect(pod.output()).not.toMatch(/demo/i);
    expect((await fetch(`${pod.url}/docs`)).status).toBe(404);
  });

  it('answers the scrape as the job makes it: 200 Prometheus text with http_requests_total and app_info, probes and scrapes by route', async () => {
    // What the kubelet does between scrapes.
    for (const path of ['/healthz', '/readyz', '/v1/services']) await fetch(`${pod.url}${path}`);
    const first = await scrape(bearer(metricsToken));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const text = await first.text();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toMatch(/^app_info\{version="[^"]+",runtime="node"\} 1$/m);
    // The route label of each probe is its path: what the alerts' route!~ exclusion names.
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/healthz",status="200"\} 1$/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/readyz",status="(200|503)"\} 1$/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/v1\/services",status="\d+"\} 1$/m);
    expect(text).not.toContain(metricsToken);
    // The scrape itself is counted once answered: the next scrape shows it under /metrics.
    const second = await (await scrape(bearer(metricsToken))).text();
    expect(second).toMatch(/^http_requests_total\{method="GET",route="\/metrics",status="200"\} 1$/m);
  });

  it('refuses a scrape without the token, with another token, or with the token in another scheme', async () => {
    const problem = async (res: Response) => ({ status: res.status, type: res.headers.get('content-type'), code: ((await res.json()) as { code: string }).code });
    expect(await problem(await scrape())).toEqual({ status: 401, type: expect.stringContaining('application/problem+json'), code: 'auth_required' });
    expect(await problem(await scrape(bearer(randomBytes(48).toString('base64url'))))).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(await problem(await scrape(bearer(`${metricsToken}x`)))).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(await problem(await scrape({ authorization: `Basic ${metricsToken}` }))).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  describeWithTools([PROMETHEUS], 'scraped by a real Prometheus with the production job', () => {
    let prometheus: ChildProcess | undefined;
    let promUrl: string;
    let tmp: string;
    let promOutput = '';

    /** One instant query's result: [{ metric, value: [time, "value"] }]. */
    const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      expect(body.status, q).toBe('success');
      return body.data.result;
    };
    /** Polls until `ok` holds: the answer of a scrape Prometheus makes on its own schedule. */
    const eventually = async <T,>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
      let last: T | undefined;
      for (let i = 0; i < 600; i++) {
        last = await read().catch(() => undefined as T);
        if (last !== undefined && ok(last)) return last;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`${what}: still ${JSON.stringify(last)}\n${promOutput.slice(-3000)}`);
    };

    beforeAll(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'prometheus-'));
      const address = new URL(pod.url).host;
      // What endpointslice discovery gives for a pod behind the Service, as file_sd targets
      // (Debian's Prometheus is built without Kubernetes discovery): the real pod on port
      // `http`, and two endpoints the job must drop (another port name, another Service).
      const portName = (service.spec.ports as Obj[])[0]!.name as string;
      const meta = (over: Record<string, string>) => ({
        __meta_kubernetes_namespace: namespaceOf(productionJob)[0]!,
        __meta_kubernetes_service_name: service.metadata.name as string,
        __meta_kubernetes_endpointslice_port_name: portName,
        __meta_kubernetes_pod_name: 'laundry-api-6d4f8-a',
        ...over,
      });
      writeFileSync(
        join(tmp, 'endpoints.json'),
        JSON.stringify([
          { targets: [address], labels: meta({}) },
          { targets: ['127.0.0.1:9'], labels: meta({ __meta_kubernetes_endpointslice_port_name: 'debug' }) },
          { targets: ['127.0.0.1:9'], labels: meta({ __meta_kubernetes_service_name: 'laundry-api-preview' }) },
        ]),
      );
      // The same pod seen by a job whose token file holds a stale token (a rotation half done).
      writeFileSync(join(tmp, 'stale-endpoints.json'), JSON.stringify([{ targets: [address], labels: meta({ __meta_kubernetes_pod_name: 'stale-token' }) }]));
      // What pod discovery gives for the worker's pods: the real worker on its `metrics` port, and
      // what its job must drop (an API pod, another port of a worker pod, a worker pod not running).
      const podMeta = (over: Record<string, string>) => ({
        __meta_kubernetes_namespace: namespaceOf(productionWorkerJob)[0]!,
        __meta_kubernetes_pod_name: 'laundry-notifications-worker-7c9d5-a',
        __meta_kubernetes_pod_label_app_kubernetes_io_component: worker.spec.template.metadata.labels['app.kubernetes.io/component'] as string,
        __meta_kubernetes_pod_container_port_name: 'metrics',
        __meta_kubernetes_pod_phase: 'Running',
        ...over,
      });
      writeFileSync(
        join(tmp, 'worker-pods.json'),
        JSON.stringify([
          ...(workerPod ? [{ targets: [new URL(workerPod.url).host], labels: podMeta({}) }] : []),
          { targets: [address], labels: podMeta({ __meta_kubernetes_pod_name: 'laundry-api-6d4f8-a', __meta_kubernetes_pod_label_app_kubernetes_io_component: 'api', __meta_kubernetes_pod_container_port_name: 'http' }) },
          { targets: ['127.0.0.1:9'], labels: podMeta({ __meta_kubernetes_pod_container_port_name: 'debug' }) },
          { targets: ['127.0.0.1:9'], labels: podMeta({ __meta_kubernetes_pod_name: 'laundry-notifications-worker-7c9d5-b', __meta_kubernetes_pod_phase: 'Pending' }) },
        ]),
      );
      writeFileSync(join(tmp, 'token'), metricsToken);
      writeFileSync(join(tmp, 'stale-token'), randomBytes(48).toString('base64url'));
      // The production job as committed, but for discovery (file_sd), the token file's
      // path and an interval as short as its timeout; its metrics_path, authorization type and relabelling stay.
      const job = (name: string, endpoints: string, token: string, committed: ScrapeJob = productionJob): ScrapeJob & Obj => {
        const { kubernetes_sd_configs: _sd, ...rest } = structuredClone(committed);
        return { ...rest, job_name: name, scrape_interval: rest.scrape_timeout ?? '5s', file_sd_configs: [{ files: [join(tmp, endpoints)] }], authorization: { ...rest.authorization, credentials_file: join(tmp, token) } };
      };
      writeFileSync(
        join(tmp, 'prometheus.yml'),
        stringifyYaml({
          global: { evaluation_interval: '2s' },
          rule_files: [join(process.cwd(), 'deploy/monitoring/prometheus/alerts.yml')],
          scrape_configs: [
            job(productionJob.job_name, 'endpoints.json', 'token'),
            job('laundry-api-stale-token', 'stale-endpoints.json', 'stale-token'),
            job(productionWorkerJob.job_name, 'worker-pods.json', 'token', productionWorkerJob),
          ],
        }),
      );
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      prometheus = spawn(PROMETHEUS.command, [`--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      prometheus.stdout!.on('data', (c: Buffer) => (promOutput += c.toString()));
      prometheus.stderr!.on('data', (c: Buffer) => (promOutput += c.toString()));
      await eventually('Prometheus ready', () => fetch(`${promUrl}/-/ready`).then((r) => r.status), (s) => s === 200);
    }, 180_000);

    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        const exited = new Promise((r) => prometheus!.once('exit', r));
        prometheus.kill('SIGTERM');
        await exited;
      }
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }, 60_000);

    it('keeps exactly the pod’s http port and scrapes it up, as job="laundry-api" with its namespace and pod', async () => {
      const ns = namespaceOf(productionJob)[0]!;
      const up = await eventually('up of the pod', () => query(`up{job="laundry-api", pod="laundry-api-6d4f8-a"}`), (r) => r.length === 1 && r[0]!.value[1] === '1');
      expect(up[0]!.metric).toEqual({ __name__: 'up', job: 'laundry-api', namespace: ns, pod: 'laundry-api-6d4f8-a', instance: new URL(pod.url).host });
      const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ scrapePool: string; labels: Obj }>; droppedTargets: Obj[] } };
      expect(targets.data.activeTargets.filter((t) => t.scrapePool === productionJob.job_name).map((t) => t.labels.pod)).toEqual(['laundry-api-6d4f8-a']);
      expect(targets.data.droppedTargets.filter((t) => t.discoveredLabels.job === productionJob.job_name).length).toBe(2);
      // The app's series arrive with the target labels the rules aggregate by.
      const scraped = await eventually('the scrape requests, counted by the app', () => query(`http_requests_total{job="laundry-api", namespace="${ns}", route="/metrics", status="200"}`), (r) => r.length === 1);
      expect(scraped[0]!.metric).toMatchObject({ pod: 'laundry-api-6d4f8-a', method: 'GET', status: '200' });
      expect(await query(`app_info{job="laundry-api", namespace="${ns}", runtime="node"}`)).toHaveLength(1);
    });

    it('keeps only the worker pods’ `metrics` port and scrapes the worker up, as job="laundry-notifications-worker", never as the API', async () => {
      const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ scrapePool: string; labels: Obj }>; droppedTargets: Obj[] } };
      expect(targets.data.droppedTargets.filter((t) => t.discoveredLabels.job === productionWorkerJob.job_name).map((t) => t.discoveredLabels.__meta_kubernetes_pod_name).sort()).toEqual([
        'laundry-api-6d4f8-a',
        'laundry-notifications-worker-7c9d5-a',
        'laundry-notifications-worker-7c9d5-b',
      ]);
      if (!workerPod) return; // no server database: no worker to scrape
      const ns = namespaceOf(productionWorkerJob)[0]!;
      expect(targets.data.activeTargets.filter((t) => t.scrapePool === productionWorkerJob.job_name).map((t) => t.labels.pod)).toEqual(['laundry-notifications-worker-7c9d5-a']);
      const up = await eventually('up of the worker', () => query(`up{job="laundry-notifications-worker"}`), (r) => r.length === 1 && r[0]!.value[1] === '1');
      expect(up[0]!.metric).toEqual({ __name__: 'up', job: 'laundry-notifications-worker', namespace: ns, pod: 'laundry-notifications-worker-7c9d5-a', instance: new URL(workerPod.url).host });
      // Its series (the delivery counter's family included) arrive under its own job: the API's rules and the rollout gate (job="laundry-api") never count it.
      await eventually('the worker’s app_info', () => query(`app_info{job="laundry-notifications-worker", namespace="${ns}"}`), (r) => r.length === 1);
      expect((await query(`app_info{job="laundry-api"}`)).map((r) => r.metric.pod)).toEqual(['laundry-api-6d4f8-a']);
    });

    it('sees a stale token as a failed scrape (401): what LaundryApiScrapeFailing alerts on', async () => {
      const up = await eventually('up of the stale-token target', () => query(`up{pod="stale-token"}`), (r) => r.length === 1);
      expect(up[0]!.value[1]).toBe('0');
      const targets = (await (await fetch(`${promUrl}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Array<{ labels: Obj; lastError: string }> } };
      expect(targets.data.activeTargets.find((t) => t.labels.pod === 'stale-token')!.lastError).toMatch(/401/);
    });

    it('evaluates every alert rule on these series without an error', async () => {
      type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
      const rules = await eventually(
        'every rule evaluated',
        async () => ((await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Rule[] }> } }).data.groups.flatMap((g) => g.rules),
        (r) => r.length > 0 && r.every((x) => x.health !== 'unknown'),
      );
      expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
      expect(rules.length).toBe((parseYaml(readFileSync('deploy/monitoring/prometheus/alerts.yml', 'utf8')) as { groups: Array<{ rules: unknown[] }> }).groups[0]!.rules.length);
    });
  });
});

describe('a production server without a usable METRICS_TOKEN', { timeout: 180_000 }, () => {
  // Never reached: the start stops at configuration, before the database is opened.
  const unreachable = 'postgres://app:never-opened@127.0.0.1:9/laundry';

  it('refuses to start without one, naming it', async () => {
    const secret = productionSecret(unreachable, 'unused');
    delete secret.METRICS_TOKEN;
    const { code, output } = await spawnServer(podEnv(secret)).exited;
    expect(code).toBe(1);
    expect(output).toContain('METRICS_TOKEN: is required when APP_ENV=production');
    expect(output).not.toMatch(/listening on/);
  });

  it('refuses to start with one under 32 characters, naming it and never echoing it', async () => {
    const short = `m-${randomBytes(10).toString('hex')}`; // 22 characters: enough outside production
    const { code, output } = await spawnServer(podEnv(productionSecret(unreachable, short))).exited;
    expect(code).toBe(1);
    expect(output).toContain('METRICS_TOKEN: must be at least 32 characters when APP_ENV=production');
    expect(output).not.toContain(short);
  });
});
