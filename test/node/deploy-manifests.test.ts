/**
 * The deployment files checked against the app itself: Kubernetes manifests (probe paths in
 * the OpenAPI document, ports, every variable production requires), GitHub workflows (every
 * `npm run X` exists, every secret is documented), and wrangler.toml's environments.
 * With kubectl on the PATH the overlays are rendered (`kubectl kustomize`) and checked too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { resolveTarget } from '../../tools/release/runtime.js';
import { readDockerfile, stageEnv } from './dockerfile.js';
import { hasOptionalTool } from '../support/tools.js';
import { openApiDocument } from '../../tools/openapi/document.js';

type Obj = Record<string, any>;
const yamlFile = (path: string): Obj => parseYaml(readFileSync(path, 'utf8')) as Obj;

const K8S = 'deploy/k8s';
const base = yamlFile(`${K8S}/base/kustomization.yaml`);
const resources: Obj[] = (base.resources as string[]).map((r) => yamlFile(`${K8S}/base/${r}`));
const byKind = (kind: string) => resources.find((r) => r.kind === kind)!;
const byName = (kind: string, name: string) => resources.find((r) => r.kind === kind && r.metadata.name === name)!;
/** The API; the other Deployment is the notifications worker (notifications-worker.yaml). */
const deployment = byName('Deployment', 'laundry-api');
const worker = byName('Deployment', 'laundry-notifications-worker');
const job = byKind('Job');
const cronJob = byKind('CronJob');
const service = byKind('Service');
const secretExample = yamlFile(`${K8S}/secret.example.yaml`);
const configLiterals = (k: Obj): Record<string, string> =>
  Object.fromEntries(((k.configMapGenerator?.[0]?.literals ?? []) as string[]).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const configMap = configLiterals(base);
const container = deployment.spec.template.spec.containers[0] as Obj;
const runtimeStage = readDockerfile().at(-1)!;

const kubectl = hasOptionalTool('kubectl', ['version', '--client']);

/** The variables production refuses to start without, as the app itself reports them. */
function requiredInProduction(): string[] {
  try {
    loadConfig({ APP_ENV: 'production' });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.split(':')[0]!);
  }
  throw new Error('expected production config without secrets to be refused');
}

/** Realistic, non-placeholder values for the Secret's keys. */
function realisticSecrets(): Record<string, string> {
  return {
    DATABASE_URL: 'postgres://app:s3cr3t-Pa55@db.internal:5432/laundry',
    JWT_SECRET: 'k8s-manifest-test-jwt-secret-0123456789abcdef',
    STRIPE_SECRET_KEY: 'sk_live_51Nabcdefghijklmnop',
    STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnop0123',
    STRIPE_PUBLISHABLE_KEY: 'pk_live_51Nabcdefghijklmnop',
  };
}

describe('Kubernetes manifests against the app', () => {
  let openApiPaths: string[];
  beforeAll(async () => {
    openApiPaths = Object.keys((await openApiDocument()).paths as Record<string, unknown>);
  });

  it('base has the API Deployment, Service, HPA, PDB, migration Job, payments CronJob and the notifications worker Deployment; the Secret example is never applied', () => {
    expect(resources.map((r) => r.kind).sort()).toEqual(['CronJob', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Service']);
    expect(resources.filter((r) => r.kind === 'Deployment').map((r) => r.metadata.name).sort()).toEqual(['laundry-api', 'laundry-notifications-worker']);
    const kustomizations = [`${K8S}/base`, ...readdirSync(`${K8S}/overlays`).map((o) => `${K8S}/overlays/${o}`)].map((d) => yamlFile(`${d}/kustomization.yaml`));
    for (const k of kustomizations) {
      for (const r of [...(k.resources ?? []), ...(k.components ?? [])] as string[]) expect(r).not.toMatch(/secret/);
      expect(k.secretGenerator).toBeUndefined();
    }
    expect(secretExample.kind).toBe('Secret');
    expect(readdirSync(`${K8S}/overlays`).sort()).toEqual(['production', 'staging']);
  });

  it('Deployment: no replicas (the HPA owns the count, from 3), rolling update that never drops below capacity', () => {
    // A `replicas` here would reset the autoscaled count on every `kubectl apply`.
    expect(deployment.spec).not.toHaveProperty('replicas');
    expect(byKind('HorizontalPodAutoscaler').spec.minReplicas).toBe(3);
    expect(deployment.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    expect(deployment.spec.strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
    expect(deployment.spec.revisionHistoryLimit).toBeGreaterThanOrEqual(2);
  });

  it('probes use the real paths (present in the OpenAPI document) and the container port', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.startupProbe.httpGet.path).toBeDefined();
    const portNames = (container.ports as Obj[]).map((p) => p.name);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(openApiPaths).toContain(container[probe].httpGet.path);
      expect([...portNames, ...(container.ports as Obj[]).map((p) => p.containerPort)]).toContain(container[probe].httpGet.port);
    }
    // /readyz waits up to 2 s for the database: the probe must wait longer than that.
    expect(container.readinessProbe.timeoutSeconds).toBeGreaterThan(2);
  });

  it('ports agree: containerPort = PORT (ConfigMap) = Dockerfile EXPOSE and ENV; the Service targets it', () => {
    const http = (container.ports as Obj[]).find((p) => p.name === 'http')!;
    const expose = Number(runtimeStage.instructions.find((i) => i.op === 'EXPOSE')!.args);
    expect(http.containerPort).toBe(expose);
    expect(Number(configMap.PORT)).toBe(expose);
    expect(Number(stageEnv(runtimeStage).PORT)).toBe(expose);
    expect(['http', expose]).toContain(service.spec.ports[0].targetPort);
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  it('every container: requests and limits, non-root, read-only root filesystem, no privilege escalation, /tmp writable', () => {
    for (const workload of [deployment, job, cronJob, worker]) {
      const pod = (workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec) as Obj;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers as Obj[]) {
        expect(c.resources.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        expect(c.resources.limits).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        const tmp = (c.volumeMounts as Obj[]).find((m) => m.mountPath === '/tmp')!;
        expect((pod.volumes as Obj[]).find((v) => v.name === tmp.name)?.emptyDir).toBeDefined();
      }
    }
  });

  it('the Deployment keeps the image’s heap bounds (NODE_OPTIONS) and a memory limit well above them', () => {
    const imageOptions = stageEnv(runtimeStage).NODE_OPTIONS;
    expect(imageOptions).toMatch(/--max-old-space-size=\d+/);
    const container = (deployment.spec.template.spec.containers as Obj[])[0]!;
    const env = (container.env as Obj[]).find((e) => e.name === 'NODE_OPTIONS');
    expect(env?.value).toBe(imageOptions);
    const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(imageOptions!)![1]);
    // Heap, young generation, code, buffers and the binary: at least twice the old space.
    expect(mib(container.resources.limits.memory)).toBeGreaterThanOrEqual(2 * oldSpace);
    expect(mib(container.resources.requests.memory)).toBeGreaterThan(oldSpace);
  });

  it('the payments CronJob runs the compiled payments-job command, one run at a time, and the pods run no timer', () => {
    const spec = cronJob.spec as Obj;
    expect(spec.schedule).toBe('*/15 * * * *'); // the Worker's cron trigger
    expect(readFileSync('wrangler.toml', 'utf8')).toMatch(/crons = \["\*\/15 \* \* \* \*"\]/);
    expect(spec.concurrencyPolicy).toBe('Forbid');
    const pod = spec.jobTemplate.spec.template.spec as Obj;
    expect(pod.restartPolicy).toBe('Never');
    const c = pod.containers[0] as Obj;
    expect(c.command).toEqual(['node', 'dist/src/node.js', 'payments-job']);
    expect(readFileSync('src/node.ts', 'utf8')).toMatch(/'payments-job': \(\) => import\('\.\/platform\/node\/commands\.js'\)\.then\(\(m\) => m\.paymentsJobCommand\(\)\)/);
    expect(c.image).toBe(container.image);
    expect((c.envFrom as Obj[]).find((r) => r.configMapRef)?.configMapRef.name).toBe(base.configMapGenerator[0].name);
    expect((c.envFrom as Obj[]).find((r) => r.secretRef)?.secretRef.name).toBe(secretExample.metadata.name);
    expect(configMap.PAYMENTS_JOB_INTERVAL_MS).toBe('0');
    // A failed rollout's undo gives the CronJob the Deployment's image back too.
    const undo = String((workflows['k8s-rollout.yml']!.jobs.rollout as Obj).steps.find((s: Obj) => /rollout undo/.test(String(s.run))).run);
    expect(undo).toMatch(/set image cronjob\/laundry-api-payments-job payments-job=/);
  });

  it('terminationGracePeriodSeconds outlasts SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS (+ 2 s to close the database)', () => {
    const delay = Number(configMap.SHUTDOWN_DELAY_MS);
    const grace = Number(configMap.SHUTDOWN_GRACE_MS);
    expect(delay).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(0);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(delay + grace + 2000);
  });

  it('every variable production requires comes from the Secret or the ConfigMap the Deployment references', () => {
    const required = requiredInProduction();
    expect(required).toEqual(expect.arrayContaining(['DATABASE_URL', 'JWT_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']));
    const refs = container.envFrom as Obj[];
    expect(refs.find((r) => r.configMapRef)?.configMapRef.name).toBe(base.configMapGenerator[0].name);
    expect(refs.find((r) => r.secretRef)?.secretRef.name).toBe(secretExample.metadata.name);
    const provided = new Set([...Object.keys(configMap), ...Object.keys(secretExample.stringData as Obj)]);
    for (const name of required) expect(provided.has(name), name).toBe(true);
    // Secrets stay out of the ConfigMap.
    for (const name of ['DATABASE_URL', 'JWT_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']) expect(configMap[name]).toBeUndefined();

    // The example's placeholders are refused in production, real-looking values accepted.
    const env = { ...configMap, ...(secretExample.stringData as Record<string, string>) };
    expect(() => loadConfig(env)).toThrow(/placeholder/);
    const config = loadConfig({ ...configMap, ...realisticSecrets() });
    expect(config).toMatchObject({ appEnv: 'production', port: Number(configMap.PORT), databaseDriver: 'node-postgres' });
  });

  it('the migration Job runs the compiled migrate command with what production config needs', () => {
    const c = job.spec.template.spec.containers[0] as Obj;
    expect(c.command).toEqual(['node', 'dist/src/node.js', 'migrate']);
    expect(readFileSync('src/node.ts', 'utf8')).toMatch(/\bmigrate: \(\) => import\('\.\/platform\/node\/commands\.js'\)\.then\(\(m\) => m\.migrateCommand\(\)\)/);
    expect(c.image).toBe(container.image);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect((c.envFrom as Obj[]).map((r) => r.secretRef?.name)).toContain(secretExample.metadata.name);
    // The image's ENV (APP_ENV=production) plus the Secret must be a valid configuration.
    expect(() => loadConfig({ ...stageEnv(runtimeStage), ...realisticSecrets() })).not.toThrow();
    // deploy-k8s applies the Job alone by this label, then everything else.
    expect(job.metadata.labels['app.kubernetes.io/component']).toBe('migration');
    expect(job.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('migration');
    for (const r of resources.filter((x) => x !== job)) expect(r.metadata.labels?.['app.kubernetes.io/component']).not.toBe('migration');
  });

  it('HPA, PDB and Service select the Deployment’s pods', () => {
    const hpa = byKind('HorizontalPodAutoscaler');
    const pdb = byKind('PodDisruptionBudget');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2); // a rolling update and a node drain keep serving
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    // ...and only them: the notifications worker's pods get no API traffic and are not counted as API capacity.
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const workerLabels = worker.spec.template.metadata.labels as Record<string, string>;
    for (const selector of [service.spec.selector, pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels] as Record<string, string>[]) {
      expect(selects(selector, workerLabels)).toBe(false);
    }
    expect(selects(worker.spec.selector.matchLabels as Record<string, string>, deployment.spec.template.metadata.labels as Record<string, string>)).toBe(false);
  });

  it('the notifications worker: the API’s image running the compiled notifications-worker command, 2 replicas, /healthz and /metrics on its `metrics` port 9464, the same ConfigMap and Secret', () => {
    const spec = worker.spec as Obj;
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
    expect(worker.metadata.labels['app.kubernetes.io/component']).toBe('notifications-worker');
    const pod = spec.template.spec as Obj;
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0] as Obj;
    expect(c.command).toEqual(['node', 'dist/src/node.js', 'notifications-worker']);
    expect(readFileSync('src/node.ts', 'utf8')).toMatch(/'notifications-worker': \(\) => import\('\.\/platform\/node\/notifications-worker\.js'\)\.then\(\(m\) => m\.notificationsWorkerCommand\(\)\)/);
    expect(c.image).toBe(container.image);
    expect(pod.imagePullSecrets).toEqual(deployment.spec.template.spec.imagePullSecrets);
    expect((c.envFrom as Obj[]).find((r) => r.configMapRef)?.configMapRef.name).toBe(base.configMapGenerator[0].name);
    expect((c.envFrom as Obj[]).find((r) => r.secretRef)?.secretRef.name).toBe(secretExample.metadata.name);
    const env = Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value]));
    expect(env.NODE_OPTIONS).toBe(stageEnv(runtimeStage).NODE_OPTIONS);
    // The port Prometheus scrapes (deploy/monitoring/prometheus/scrape-config.yml) is the port the process listens on.
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(env.NOTIFICATIONS_WORKER_PORT).toBe('9464');
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // SIGTERM finishes the cycle in flight within the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS!)![1]);
    expect(mib(c.resources.limits.memory)).toBeGreaterThanOrEqual(2 * oldSpace);
  });

  it('pods behind the ingress trust exactly one X-Forwarded-For hop, so registration is limited per customer, not per ingress pod', () => {
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP'); // only the ingress reaches the pods
    for (const env of ['staging', 'production']) {
      const overlay = configLiterals(yamlFile(`${K8S}/overlays/${env}/kustomization.yaml`));
      expect(overlay.TRUSTED_PROXY_HOPS ?? configMap.TRUSTED_PROXY_HOPS).toBe('1');
    }
  });

  it('overlays: one namespace each, on the base, with their own CORS origins', () => {
    for (const env of ['staging', 'production']) {
      const k = yamlFile(`${K8S}/overlays/${env}/kustomization.yaml`);
      expect(k.namespace).toBe(`laundry-${env}`);
      expect(k.resources).toContain('../../base');
      expect(configLiterals(k).CORS_ORIGINS).toMatch(/^https:\/\//);
      expect(k.configMapGenerator[0]).toMatchObject({ name: base.configMapGenerator[0].name, behavior: 'merge' });
      // /docs: off in the base (production), on for staging's app team.
      expect({ ...configLiterals(base), ...configLiterals(k) }.DOCS_UI).toBe(env === 'production' ? 'off' : 'on');
    }
  });

  it.runIf(kubectl)('kubectl kustomize renders each overlay into namespaced objects wired to the generated ConfigMap', () => {
    for (const env of ['staging', 'production']) {
      const docs = parseAllDocuments(execFileSync('kubectl', ['kustomize', `${K8S}/overlays/${env}`], { encoding: 'utf8' })).map((d) => d.toJS() as Obj);
      expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'CronJob', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Service']);
      for (const d of docs) expect(d.metadata.namespace).toBe(`laundry-${env}`);
      const cm = docs.find((d) => d.kind === 'ConfigMap')!;
      const dep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'laundry-api')!;
      const workerDep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'laundry-notifications-worker')!;
      expect(cm.metadata.name).toMatch(/^laundry-api-config-[a-z0-9]+$/);
      expect(dep.spec.template.spec.containers[0].envFrom[0].configMapRef.name).toBe(cm.metadata.name);
      // A config change rolls the worker too.
      expect(workerDep.spec.template.spec.containers[0].envFrom[0].configMapRef.name).toBe(cm.metadata.name);
      const cron = docs.find((d) => d.kind === 'CronJob')!;
      expect(cron.spec.jobTemplate.spec.template.spec.containers[0].envFrom[0].configMapRef.name).toBe(cm.metadata.name);
      expect(cm.data).toMatchObject({ APP_ENV: 'production', PORT: configMap.PORT, CORS_ORIGINS: expect.stringMatching(/^https:/) });
      expect(loadConfig({ ...(cm.data as Record<string, string>), ...realisticSecrets() }).appEnv).toBe('production');
      expect(docs.filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'migration').map((d) => d.kind)).toEqual(['Job']);
    }
  });

  it.runIf(kubectl)('the workflow’s image pinning step renders the digest into both Deployments (API and notifications worker), the Job and the CronJob', () => {
    const wf = yamlFile('.github/workflows/k8s-rollout.yml');
    const step = (wf.jobs.rollout.steps as Obj[]).find((s) => /Pin the image/.test(s.name))!;
    const image = 'ghcr.io/acme/laundry-api';
    const digest = `sha256:${'ab'.repeat(32)}`;
    const script = (step.run as string)
      .replaceAll('${{ inputs.environment }}', 'production')
      .replaceAll('${{ inputs.image }}', image)
      .replaceAll('${{ inputs.digest }}', digest);
    const dir = mkdtempSync(join(tmpdir(), 'laundry-pin-'));
    try {
      cpSync('deploy', join(dir, 'deploy'), { recursive: true });
      execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env: { ...process.env, KUSTOMIZATION: 'deploy/k8s/release/production' } });
      const rendered = readFileSync(join(dir, 'rendered.yaml'), 'utf8');
      expect(rendered.match(new RegExp(`image: ${image}@${digest}`, 'g'))).toHaveLength(4);
      expect(rendered).toContain('namespace: laundry-production');
      // Every container of every workload, by name: none is left on the bare `laundry-api` name.
      const docs = parseAllDocuments(rendered).map((d) => d.toJS() as Obj);
      const images = Object.fromEntries(
        docs
          .filter((d) => ['Deployment', 'Job', 'CronJob'].includes(d.kind))
          .map((d) => [`${d.kind}/${d.metadata.name}`, ((d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec).containers as Obj[]).map((c) => c.image)]),
      );
      const pinned = [`${image}@${digest}`];
      expect(images).toEqual({
        'Deployment/laundry-api': pinned,
        'Deployment/laundry-notifications-worker': pinned,
        'Job/laundry-api-migrate': pinned,
        'CronJob/laundry-api-payments-job': pinned,
      });
      // The step itself refuses a render with any image left unpinned: here the worker's, under another name.
      const workerFile = join(dir, 'deploy/k8s/base/notifications-worker.yaml');
      writeFileSync(workerFile, readFileSync(workerFile, 'utf8').replace(/^(\s+image:) laundry-api$/m, '$1 laundry-notifier'));
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, KUSTOMIZATION: 'deploy/k8s/release/production' } });
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/^\s*image: laundry-notifier$/m);
      expect(run.stdout).toContain(`::error::the images above are not pinned to ${image}@${digest}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------

const workflowFiles = readdirSync('.github/workflows').filter((f) => /\.ya?ml$/.test(f));
const workflows: Record<string, Obj> = Object.fromEntries(workflowFiles.map((f) => [f, yamlFile(`.github/workflows/${f}`)]));
const allText = [...workflowFiles.map((f) => readFileSync(`.github/workflows/${f}`, 'utf8')), readFileSync('.github/actions/notify-slack/action.yml', 'utf8')].join('\n');
const steps = (job: Obj): Obj[] => (job.steps ?? []) as Obj[];
const runs = (wf: Obj) => Object.values(wf.jobs as Obj).flatMap((j: Obj) => steps(j).map((s) => String(s.run ?? '')));

describe('GitHub workflows', () => {
  it('every `npm run X` they call exists in package.json', () => {
    const scripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts);
    const called = [...allText.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(called.length).toBeGreaterThan(3);
    for (const name of new Set(called)) expect(scripts, `npm run ${name}`).toContain(name);
  });

  it('every secret they reference is documented in the runbook’s Secrets table', () => {
    const runbook = readFileSync('docs/runbook.md', 'utf8');
    const section = runbook.slice(runbook.indexOf('## Secrets'));
    expect(section.length).toBeGreaterThan(20);
    const table = section.split('\n## ')[0]!;
    const referenced = new Set([...allText.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
    expect([...referenced]).toEqual(expect.arrayContaining(['CLOUDFLARE_API_TOKEN', 'SLACK_WEBHOOK_URL', 'KUBE_CONFIG']));
    for (const name of referenced) expect(table, name).toMatch(new RegExp(`^\\|\\s*\`${name}\``, 'm'));
  });

  it('use Node 22, and local `uses:` point at files that exist', () => {
    for (const [file, wf] of Object.entries(workflows)) {
      for (const job of Object.values(wf.jobs as Obj)) {
        if (typeof job.uses === 'string') expect(existsSync(job.uses.replace(/^\.\//, '')), `${file}: ${job.uses}`).toBe(true);
        for (const s of steps(job)) {
          if (String(s.uses).startsWith('actions/setup-node')) expect(String(s.with['node-version']), file).toBe('22');
          if (String(s.uses).startsWith('./')) expect(existsSync(`${String(s.uses).slice(2)}/action.yml`), `${file}: ${s.uses}`).toBe(true);
        }
      }
    }
  });

  it('ci: .ci/run (typecheck, lint, tests, alert rules) with a Postgres service, a wrangler dry-run bundle with its size, a Docker build without push', () => {
    const ci = workflows['ci.yml']!;
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    const all = runs(ci).join('\n');
    // The test job runs the script local CI runs (test/node/workflows.test.ts checks it in detail).
    expect(all).toContain('bash .ci/run');
    const ciRun = readFileSync('.ci/run', 'utf8');
    expect(ciRun).toMatch(/^npm test\b/m);
    expect(ciRun).toMatch(/^npm run test:alerts$/m);
    expect(ciRun).toMatch(/^export REQUIRE_SERVER_DB=1$/m);
    const testScript = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.test;
    expect(testScript).toContain('npm run typecheck');
    expect(testScript).toContain('npm run lint');
    // tools/test/run.ts runs `vitest run` (test/node/test-runner.test.ts).
    expect(testScript).toMatch(/tools\/test\/run\.ts$/);
    expect(all).toMatch(/wrangler deploy --dry-run --outdir/);
    expect(all).toContain('GITHUB_STEP_SUMMARY');
    const testJob = Object.values(ci.jobs as Obj).find((j: Obj) => j.services?.postgres)!;
    expect(testJob.env.TEST_DATABASE_URL).toMatch(/^postgres:\/\//);
    const build = Object.values(ci.jobs as Obj).flatMap(steps).find((s) => String(s.uses).startsWith('docker/build-push-action'))!;
    expect(build.with.push).toBe(false);
  });

  it('deploy-worker: on push to main, migrations then the release tool, staging then a protected production', () => {
    const wf = workflows['deploy-worker.yml']!;
    expect(wf.on.push.branches).toEqual(['main']);
    expect(wf.concurrency['cancel-in-progress']).toBe(false);
    expect(wf.jobs.staging.with.environment).toBe('staging');
    expect(wf.jobs.production.with.environment).toBe('production');
    expect(wf.jobs.production.needs).toBe('staging');
    const release = workflows['worker-release.yml']!.jobs.release as Obj;
    expect(release.environment.name).toBe('${{ inputs.environment }}');
    const order = steps(release).map((s) => String(s.run ?? ''));
    const idx = (re: RegExp) => order.findIndex((r) => re.test(r));
    expect(idx(/npm run check:migrations/)).toBeGreaterThanOrEqual(0);
    expect(idx(/npm run check:migrations/)).toBeLessThan(idx(/npm run db:migrate/));
    expect(idx(/npm run db:migrate/)).toBeLessThan(idx(/npm run release -- --env/));
  });

  it('deploy-k8s: image to GHCR tagged with the SHA, kubectl apply -k, rollout status, rollout undo on failure', () => {
    const wf = workflows['deploy-k8s.yml']!;
    expect(wf.on.push.branches).toEqual(['main']);
    const push = steps(wf.jobs.image).find((s) => String(s.uses).startsWith('docker/build-push-action'))!;
    expect(push.with.push).toBe(true);
    expect(push.with.tags).toMatch(/^\$\{\{ steps\.name\.outputs\.image \}\}:\$\{\{ github\.sha \}\}$/);
    expect(steps(wf.jobs.image).find((s) => s.id === 'name')!.run).toContain('ghcr.io/');
    expect(wf.jobs.production.needs).toEqual(expect.arrayContaining(['staging']));
    const rollout = workflows['k8s-rollout.yml']!.jobs.rollout as Obj;
    const script = steps(rollout).map((s) => String(s.run ?? '')).join('\n');
    expect(script).toMatch(/kubectl apply -k/);
    expect(script).toMatch(/kubectl -n "\$NS" rollout status deployment\/laundry-api/);
    const undo = steps(rollout).find((s) => /rollout undo/.test(String(s.run)))!;
    expect(undo.if).toMatch(/failure\(\)/);
  });

  it('every deploy job ends with a Slack notification, success or failure', () => {
    const deployJobs = Object.entries(workflows).flatMap(([file, wf]) =>
      Object.entries(wf.jobs as Obj)
        .filter(([, j]) => j.environment && j.steps)
        .map(([name, j]) => [`${file}:${name}`, j as Obj] as const),
    );
    expect(deployJobs.map(([n]) => n).sort()).toEqual(['k8s-rollout.yml:rollout', 'worker-release.yml:release']);
    for (const [name, j] of deployJobs) {
      const last = steps(j).at(-1)!;
      expect(last.uses, name).toBe('./.github/actions/notify-slack');
      expect(last.if, name).toBe('always()');
      expect(last.with['webhook-url']).toBe('${{ secrets.SLACK_WEBHOOK_URL }}');
      expect(last.with.status).toBe('${{ job.status }}');
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('wrangler.toml environments', () => {
  let readConfig: (args: { config: string; env?: string }, opts: { hideWarnings: boolean }) => Obj;
  beforeAll(async () => {
    readConfig = (await import('wrangler')).unstable_readConfig as never;
  });
  afterAll(() => {});

  it.each(['staging', 'production'])('%s: own Worker, version metadata, observability, production vars, cron, a route; no secrets', async (env) => {
    const top = readConfig({ config: 'wrangler.toml' }, { hideWarnings: true });
    const c = readConfig({ config: 'wrangler.toml', env }, { hideWarnings: true });
    expect(c.name).toBe(`laundry-api-${env}`);
    expect(c.version_metadata).toEqual({ binding: 'CF_VERSION_METADATA' });
    expect(readFileSync('src/worker.ts', 'utf8')).toContain('env.CF_VERSION_METADATA?.id');
    expect(c.observability).toMatchObject({ enabled: true });
    expect(c.vars).toMatchObject({ APP_ENV: 'production', CURRENCY: expect.any(String), CORS_ORIGINS: expect.stringMatching(/^https:\/\//) });
    expect(c.triggers.crons).toEqual(top.triggers.crons);
    expect(c.compatibility_date).toBe(top.compatibility_date);
    for (const secret of ['DATABASE_URL', 'JWT_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']) expect(c.vars[secret]).toBeUndefined();
    // /docs and /openapi.json: the UI files and the prebuilt document come from Static Assets
    // (never the bundle), written by the build step that also makes what is bundled; production keeps the UI off.
    expect(c.assets).toMatchObject({ directory: expect.stringMatching(/\.wrangler\/worker-build\/assets$/), binding: 'DOCS_ASSETS', run_worker_first: true });
    expect(c.build).toMatchObject({ command: 'npx tsx tools/worker-bundle/build.ts' });
    expect(c.main).toMatch(/\.wrangler\/worker-build\/src\/worker\.ts$/);
    expect(c.vars.DOCS_UI).toBe(env === 'production' ? 'off' : 'on');
    const target = await resolveTarget(env as 'staging' | 'production');
    expect(target).toEqual({ env, workerName: `laundry-api-${env}`, baseUrl: expect.stringMatching(/^https:\/\/[a-z0-9.-]+$/) });
  });
});
