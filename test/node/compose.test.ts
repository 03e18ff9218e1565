/**
 * deploy/compose/ checked against the app itself: the services, ports, health checks, commands
 * and variables of compose.yaml (resolved with the committed .env.example, as CI's
 * `docker compose --env-file deploy/compose/.env.example … up --wait` resolves them) agree with
 * the Dockerfile, the production configuration (src/config.ts, src/platform/node/config.ts), the
 * OpenAPI document and the shipped monitoring files. Then the real thing, without Docker: the
 * migrate service's command on an empty PostgreSQL database, the api's command with the api's
 * environment, its healthcheck command, and /metrics as the compose Prometheus scrapes it.
 * With Debian's docker-compose, `docker-compose config` must accept the file; with promtool,
 * the compose Prometheus configuration (laid out as the container sees it) must check.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isPlaceholder } from '../../src/config-fields.js';
import { loadNodeServerConfig } from '../../src/platform/node/config.js';
import { spawnServer, stopServer, type ServerProcess } from '../support/server-process.js';
import { DOCKER_COMPOSE, PROMETHEUS, PROMTOOL, describeWithTools } from '../support/tools.js';
import { dockerignore, execForm, readDockerfile, stageEnv } from './dockerfile.js';
import { openApiDocument } from '../../tools/openapi/document.js';
import { dropServerDatabase, emptyServerDatabase } from '../setup/databases.js';

type Obj = Record<string, any>;

const DIR = 'deploy/compose';
const COMPOSE_FILE = `${DIR}/compose.yaml`;
const ENV_EXAMPLE = `${DIR}/.env.example`;
const composeText = readFileSync(COMPOSE_FILE, 'utf8');
const compose = parseYaml(composeText) as Obj;
const services = compose.services as Record<string, Obj>;
const runtimeStage = readDockerfile().at(-1)!;
const imageEnv = stageEnv(runtimeStage);
const exposed = Number(runtimeStage.instructions.find((i) => i.op === 'EXPOSE')!.args);

/** KEY=VALUE lines of an env file (no quotes, no `$`: Compose v1, v2 and this reader agree on those). */
function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`${ENV_EXAMPLE}: not KEY=VALUE: ${line}`);
    vars[m[1]!] = m[2]!;
  }
  return vars;
}
const example = parseEnvFile(readFileSync(ENV_EXAMPLE, 'utf8'));

/**
 * Compose's interpolation (https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/):
 * `$$` → `$`, `${VAR}`, `$VAR`, `${VAR:-default}` / `${VAR-default}`, `${VAR:?error}` / `${VAR?error}`
 * (throws). The docker-compose suite below checks this agrees with Compose on compose.yaml.
 */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$(?:\$|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))/g, (m, name: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (m === '$$') return '$';
    const key = (name ?? bare)!;
    const value = vars[key];
    if (!op) return value ?? '';
    const missing = value === undefined || (op.startsWith(':') && value === '');
    if (op.endsWith('-')) return missing ? arg! : value!;
    if (missing) throw new Error(`${key}: ${arg}`);
    return value!;
  });
}

/** Every string in a parsed YAML value interpolated, as Compose does. */
function resolveAll<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') return interpolate(value, vars) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => resolveAll(v, vars)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveAll(v, vars)])) as T;
  return value;
}
const resolved = resolveAll(services, example);

/** Every string value in a parsed YAML value (comments are not values). */
const stringsOf = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(stringsOf) : [];

/** The variables `${…}` references in compose.yaml's values, with how: required (`:?`), defaulted (`:-`) or plain. */
const references = stringsOf(compose).flatMap((v) => [...v.matchAll(/(?<!\$)\$\{(\w+)(:?[-?])?/g)].map((m) => ({ name: m[1]!, op: m[2] ?? '' })));

/** What a container of this image sees: the image's ENV, then the service's environment. */
const containerEnv = (service: string): Record<string, string> => ({ ...imageEnv, ...(resolved[service]!.environment as Record<string, string>) });

/** The variables production refuses to start without, as the app itself reports them. */
function requiredInProduction(): string[] {
  try {
    loadConfig({ APP_ENV: 'production' });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.split(':')[0]!);
  }
  throw new Error('expected production config without secrets to be refused');
}

/** `source:target[:mode]` volume entries of a service, with the source resolved from the compose file's folder. */
function mounts(service: string): { source: string; target: string; readOnly: boolean; bind: boolean }[] {
  return ((services[service]!.volumes ?? []) as string[]).map((v) => {
    const [source, target, mode] = v.split(':') as [string, string, string | undefined];
    const bind = source.startsWith('.') || source.startsWith('/');
    return { source: bind ? relative('.', resolve(DIR, source)) : source, target, readOnly: mode === 'ro', bind };
  });
}

/** The repository file a container path of `service` comes from (a file mount, or a file inside a mounted folder). */
function hostFileOf(service: string, containerPath: string): string | undefined {
  for (const m of mounts(service).filter((x) => x.bind)) {
    if (containerPath === m.target) return m.source;
    if (containerPath.startsWith(`${m.target}/`)) return join(m.source, containerPath.slice(m.target.length + 1));
  }
  return undefined;
}

const seconds = (d: string): number => {
  const m = /^(\d+)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${d}`);
  return Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1);
};

const APP_SERVICES = ['api', 'migrate', 'payments-job', 'notifications-worker'];
const SECRETS = ['JWT_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'METRICS_TOKEN', 'POSTGRES_PASSWORD', 'GRAFANA_ADMIN_PASSWORD'];

const promArg = (flag: string) =>
  (services.prometheus!.command as string[]).find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
const promConfigPath = promArg('config.file')!;
const promConfigSource = hostFileOf('prometheus', promConfigPath)!;
const promConfig = parseYaml(readFileSync(promConfigSource, 'utf8')) as Obj;
const appJob = (promConfig.scrape_configs as Obj[]).find((j) => j.job_name === 'laundry-api')!;
/** A path in the Prometheus config, resolved as Prometheus does: relative to the config file's folder. */
const inPromContainer = (p: string) => posix.resolve(posix.dirname(promConfigPath), p);

describe('deploy/compose/compose.yaml against the Dockerfile and the app', () => {
  let openApiPaths: string[];
  beforeAll(async () => {
    openApiPaths = Object.keys((await openApiDocument()).paths as Record<string, unknown>);
  });

  it('has the api, the one-shot migrate and payments-job, the notifications worker, postgres, prometheus and grafana; the app services build the repository’s Dockerfile as laundry-api', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'grafana', 'migrate', 'notifications-worker', 'payments-job', 'postgres', 'prometheus']);
    for (const name of APP_SERVICES) {
      const s = resolved[name]!;
      expect(s.build.context, name).toBe('../..');
      expect(resolve(DIR, s.build.context, s.build.dockerfile)).toBe(resolve('Dockerfile'));
      expect(s.image, name).toMatch(/^laundry-api:[\w.-]+$/);
      expect(s.image).toBe(resolved.api!.image);
    }
    // The build argument the Dockerfile turns into APP_VERSION.
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^ARG APP_VERSION=/m);
    expect(Object.keys(services.api!.build.args as Obj)).toEqual(['APP_VERSION']);
  });

  it('every variable production requires is set for api, migrate, payments-job and notifications-worker, and their environment is a valid production configuration', () => {
    const required = requiredInProduction();
    expect(required).toEqual(expect.arrayContaining(['DATABASE_URL', 'JWT_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']));
    for (const name of APP_SERVICES) {
      const env = containerEnv(name);
      expect(env.APP_ENV, name).toBe('production');
      for (const variable of required) expect(env[variable], `${name}: ${variable}`).toBeTruthy();
      const config = loadConfig(env);
      expect(config).toMatchObject({ appEnv: 'production', port: exposed, databaseDriver: 'node-postgres' });
      expect(config.metricsToken, 'production without METRICS_TOKEN has no /metrics').toBeDefined();
      expect(() => loadNodeServerConfig(env)).not.toThrow();
      // The database is the compose postgres service, with its credentials.
      const url = new URL(config.databaseUrl!);
      expect(url.hostname).toBe('postgres');
      const pgEnv = resolved.postgres!.environment as Record<string, string>;
      expect([decodeURIComponent(url.username), decodeURIComponent(url.password), url.pathname.slice(1)]).toEqual([pgEnv.POSTGRES_USER, pgEnv.POSTGRES_PASSWORD, pgEnv.POSTGRES_DB]);
    }
    // Whatever the app requires and does not get from compose.yaml itself comes from the env file.
    const envMap = services.api!.environment as Record<string, string>;
    for (const variable of required) {
      for (const ref of envMap[variable]!.matchAll(/\$\{(\w+)/g)) expect(Object.keys(example), ref[1]).toContain(ref[1]);
    }
  });

  it('the env example names every variable compose.yaml reads and nothing else; secrets are required, never defaulted', () => {
    const named = new Set(references.map((r) => r.name));
    for (const name of named) expect(Object.keys(example), name).toContain(name);
    // COMPOSE_PROJECT_NAME is Compose's own (the volumes' prefix).
    for (const key of Object.keys(example)) if (key !== 'COMPOSE_PROJECT_NAME') expect([...named], key).toContain(key);
    expect(example.COMPOSE_PROJECT_NAME).toBe('laundry');
    for (const secret of SECRETS) {
      const refs = references.filter((r) => r.name === secret);
      expect(refs.length, secret).toBeGreaterThan(0);
      // Unset or blank stops Compose before anything starts.
      for (const r of refs) expect(r.op, secret).toBe(':?');
    }
    // With a secret missing, resolution fails naming it (`docker-compose config` below does the same).
    const { JWT_SECRET: _, ...withoutJwt } = example;
    expect(() => resolveAll(services, withoutJwt)).toThrow(/JWT_SECRET/);
  });

  it('no secret is committed: compose.yaml only references them; the example’s values are marked "example"; the real .env is ignored by git and Docker', () => {
    // Only ${…} references where secrets go.
    const secretKeys = /(SECRET|PASSWORD|TOKEN|KEY)$/;
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries((s.environment ?? {}) as Record<string, string>)) {
        if (secretKeys.test(key) && key !== 'STRIPE_PUBLISHABLE_KEY') expect(value, `${name}.${key}`).toMatch(/^\$\{\w+:\?[^}]*\}$/);
      }
    }
    expect((services.api!.environment as Obj).DATABASE_URL).toMatch(/:\$\{POSTGRES_PASSWORD:\?[^}]*\}@/);
    expect(composeText).not.toMatch(/sk_(live|test)_|whsec_|pk_(live|test)_/);
    // The example's secrets are public: each says so, and none is a real Stripe key shape.
    for (const secret of [...SECRETS, 'STRIPE_PUBLISHABLE_KEY']) {
      expect(example[secret], secret).toMatch(/example/);
      // ...yet the app accepts them, so `up --wait` with the example file starts the stack.
      expect(isPlaceholder(example[secret]!), secret).toBe(false);
    }
    expect(example.JWT_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(example.METRICS_TOKEN!.length).toBeGreaterThanOrEqual(32);
    // DATABASE_URL is built from the password: URL-safe characters only.
    expect(example.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9]+$/);
    expect(Object.values(example).join('')).not.toMatch(/["'$`]/);

    // git check-ignore: 0 ignored, 1 not ignored, anything else an error worth seeing.
    const gitIgnores = (path: string) => {
      const run = spawnSync('git', ['check-ignore', '-q', '--no-index', path], { encoding: 'utf8' });
      if (run.status !== 0 && run.status !== 1) throw new Error(`git check-ignore ${path}: ${run.stderr || run.error?.message}`);
      return run.status === 0;
    };
    expect(gitIgnores(`${DIR}/.env`)).toBe(true);
    expect(gitIgnores(ENV_EXAMPLE)).toBe(false);
    expect(dockerignore(readFileSync('.dockerignore', 'utf8'))(`${DIR}/.env`)).toBe(true);
  });

  it('api: container port = Dockerfile EXPOSE = PORT; published from the env file; healthcheck = the Dockerfile’s HEALTHCHECK on /readyz (in the OpenAPI document)', () => {
    const api = resolved.api!;
    expect(Number(imageEnv.PORT)).toBe(exposed);
    expect(Number(containerEnv('api').PORT)).toBe(exposed);
    expect(api.ports).toHaveLength(1);
    const [bind, hostPort, containerPort] = (api.ports[0] as string).split(':');
    expect(Number(containerPort)).toBe(exposed);
    expect([bind, hostPort]).toEqual([example.API_BIND, example.API_PORT]);
    expect(services.api!.ports[0]).toMatch(/^\$\{API_BIND:-127\.0\.0\.1\}:\$\{API_PORT[:-]/);

    const dockerHc = runtimeStage.instructions.find((i) => i.op === 'HEALTHCHECK')!;
    const dockerCmd = execForm(dockerHc.args.replace(/^CMD\s+/, ''));
    const [kind, ...cmd] = api.healthcheck.test as string[];
    expect(kind).toBe('CMD');
    expect(cmd).toEqual(dockerCmd.map((a) => a.replace('/healthz', '/readyz')));
    expect(openApiPaths).toContain('/readyz');
    expect(openApiPaths).toContain('/healthz');
    // /readyz waits up to 2 s for the database (and Stripe, in parallel).
    expect(seconds(api.healthcheck.timeout)).toBeGreaterThan(2);
    expect(seconds(api.healthcheck.interval)).toBe(seconds(dockerHc.flags.interval!));
    expect(seconds(api.healthcheck.start_period)).toBe(seconds(dockerHc.flags['start-period']!));
    expect(api.healthcheck.retries).toBe(Number(dockerHc.flags.retries));
  });

  it('migrate and payments-job run the compiled commands of src/node.ts; the api waits for postgres healthy and migrate completed', () => {
    const nodeTs = readFileSync('src/node.ts', 'utf8');
    const commands = /const COMMANDS[^\n]*\{([^}]*)\}/.exec(nodeTs)![1]!.split(',').map((e) => e.split(':')[0]!.trim().replace(/'/g, ''));
    expect(commands).toEqual(expect.arrayContaining(['migrate', 'payments-job']));
    const cmd = execForm(runtimeStage.instructions.find((i) => i.op === 'CMD')!.args);
    expect(services.migrate!.command).toEqual([...cmd, 'migrate']);
    expect(services['payments-job']!.command).toEqual([...cmd, 'payments-job']);
    expect(services.api!.command).toBeUndefined(); // the image's CMD: node itself gets SIGTERM
    expect(services.api!.entrypoint).toBeUndefined();

    expect(services.api!.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, migrate: { condition: 'service_completed_successfully' } });
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services['payments-job']!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services.migrate!.restart).toBe('no');
    expect(services['payments-job']!.restart).toBe('no');
  });

  it('notifications-worker: the api’s image running the compiled notifications-worker command, long-running with a healthcheck on its /healthz (port 9464, as on Kubernetes), after migrate', () => {
    const nodeTs = readFileSync('src/node.ts', 'utf8');
    const commands = /const COMMANDS[^\n]*\{([^}]*)\}/.exec(nodeTs)![1]!.split(',').map((e) => e.split(':')[0]!.trim().replace(/'/g, ''));
    expect(commands).toContain('notifications-worker');
    const cmd = execForm(runtimeStage.instructions.find((i) => i.op === 'CMD')!.args);
    const w = services['notifications-worker']!;
    expect(w.command).toEqual([...cmd, 'notifications-worker']);
    expect(resolved['notifications-worker']!.image).toBe(resolved.api!.image);
    expect(w.build).toEqual(services.api!.build);
    expect(w.environment).toEqual(services.api!.environment);
    expect(w.profiles).toBeUndefined(); // `up` starts it: without it notifications wait in the database
    expect(w.restart).toBe('unless-stopped');
    expect(w.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    // The healthcheck: the image's HEALTHCHECK form (node's fetch) on the worker's own port and /healthz.
    const [kind, ...hc] = w.healthcheck.test as string[];
    expect(kind).toBe('CMD');
    const dockerHc = runtimeStage.instructions.find((i) => i.op === 'HEALTHCHECK')!;
    expect(hc.slice(0, 2)).toEqual(execForm(dockerHc.args.replace(/^CMD\s+/, '')).slice(0, 2));
    expect(hc.at(-1)).toContain("process.env.NOTIFICATIONS_WORKER_PORT||9464)+'/healthz'");
    expect(seconds(w.healthcheck.timeout)).toBeGreaterThan(0);
    expect(seconds(w.healthcheck.interval)).toBeGreaterThan(0);
    expect(w.healthcheck.retries).toBeGreaterThan(0);
    // The port the compose Prometheus scrapes, the Kubernetes container port and the process default agree.
    const k8sWorker = parseYaml(readFileSync('deploy/k8s/base/notifications-worker.yaml', 'utf8')) as Obj;
    expect(k8sWorker.spec.template.spec.containers[0].ports).toContainEqual(expect.objectContaining({ name: 'metrics', containerPort: 9464 }));
    expect(readFileSync('src/platform/node/notifications-worker.ts', 'utf8')).toMatch(/positiveInt\(env, 'NOTIFICATIONS_WORKER_PORT', 9464\)/);
    const workerJob = (promConfig.scrape_configs as Obj[]).find((j) => j.job_name === 'laundry-notifications-worker')!;
    expect(workerJob.static_configs[0].targets).toEqual(['notifications-worker:9464']);
    expect(workerJob.metrics_path ?? '/metrics').toBe('/metrics');
    expect(workerJob.authorization).toEqual(appJob.authorization);
    // SIGTERM finishes the cycle in flight before Compose's SIGKILL.
    expect(seconds(w.stop_grace_period)).toBeGreaterThanOrEqual(10);
  });

  it('`up --wait` can succeed: every long-running service has a healthcheck and a restart policy; every one-shot it starts is awaited by a long-running service', () => {
    const started = Object.entries(services).filter(([, s]) => !s.profiles);
    const oneShot = started.filter(([, s]) => s.restart === 'no').map(([n]) => n);
    const longRunning = started.filter(([, s]) => s.restart !== 'no');
    expect(oneShot).toEqual(['migrate']);
    for (const [name, s] of longRunning) {
      expect(s.restart, name).toBe('unless-stopped');
      expect(s.healthcheck?.test, name).toBeDefined();
      expect(s.healthcheck.test[0], name).toMatch(/^CMD(-SHELL)?$/);
    }
    // A one-shot no running service depends on makes `up --wait` exit 1 when it exits 0 (docker/compose#10596).
    for (const name of oneShot) {
      const adopters = longRunning.filter(([, s]) => (s.depends_on as Obj | undefined)?.[name]?.condition === 'service_completed_successfully');
      expect(adopters.length, name).toBeGreaterThan(0);
    }
    // Dependencies on long-running services wait for them to be healthy.
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, d] of Object.entries((s.depends_on ?? {}) as Record<string, Obj>)) {
        expect(d.condition, `${name} → ${dep}`).toBe(services[dep]!.restart === 'no' ? 'service_completed_successfully' : 'service_healthy');
      }
    }
    // The payments job by hand only: its profile keeps `up` from starting it.
    expect(services['payments-job']!.profiles).toEqual(['jobs']);
  });

  it('api: stop_grace_period outlasts SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS (+ 2 s to close the database); read-only root, /tmp tmpfs, no capabilities, as on Kubernetes', () => {
    const node = loadNodeServerConfig(containerEnv('api'));
    expect(node.shutdownGraceMs).toBeGreaterThan(0);
    expect(seconds(services.api!.stop_grace_period) * 1000).toBeGreaterThan(node.shutdownDelayMs + node.shutdownGraceMs + 2000);
    for (const name of APP_SERVICES) {
      const s = services[name]!;
      expect(s.read_only, name).toBe(true);
      expect((s.tmpfs as string[]).some((t) => t.split(':')[0] === '/tmp'), name).toBe(true);
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.security_opt, name).toContain('no-new-privileges:true');
      expect(s.user, name).toBeUndefined(); // the image's USER node
    }
    // The heap bounds come from the image (NODE_OPTIONS); the memory limit is well above them.
    expect(containerEnv('api').NODE_OPTIONS).toBe(imageEnv.NODE_OPTIONS);
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(imageEnv.NODE_OPTIONS!)![1]);
    expect(Number(/^(\d+)m$/.exec(services.api!.mem_limit)![1])).toBeGreaterThanOrEqual(2 * oldSpace);
    expect(containerEnv('api').PASSWORD_HASH_THREADS).toBe(String(services.api!.cpus));
  });

  it('the payments job runs every 15 minutes (the Worker cron and the Kubernetes CronJob’s schedule) on the single api container', () => {
    expect(loadNodeServerConfig(containerEnv('api')).paymentsJobIntervalMs).toBe(15 * 60 * 1000);
    expect(readFileSync('deploy/k8s/base/payments-cronjob.yaml', 'utf8')).toMatch(/schedule: "\*\/15 \* \* \* \*"/);
    expect(readFileSync('wrangler.toml', 'utf8')).toMatch(/crons = \["\*\/15 \* \* \* \*"\]/);
    expect(services.api!.deploy?.replicas ?? 1).toBe(1);
    expect(services.api!.scale ?? 1).toBe(1);
  });

  it('postgres: PostgreSQL 15 on a named volume, pg_isready healthcheck over TCP, credentials from the env file, not published', () => {
    const p = services.postgres!;
    expect(p.image).toMatch(/^postgres:15\.\d+(-[a-z]+)?$/);
    expect(mounts('postgres')).toEqual([{ source: 'postgres-data', target: '/var/lib/postgresql/data', readOnly: false, bind: false }]);
    expect(Object.keys(compose.volumes as Obj)).toContain('postgres-data');
    expect(p.healthcheck.test[0]).toBe('CMD-SHELL');
    expect(p.healthcheck.test[1]).toMatch(/^pg_isready -h 127\.0\.0\.1 /);
    expect(p.ports).toBeUndefined();
    for (const v of ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB']) expect(p.environment[v]).toMatch(new RegExp(`^\\$\\{${v}:\\?`));
  });

  it('prometheus: scrapes the api’s /metrics on its container port with METRICS_TOKEN from a tmpfs file, labels the target namespace="laundry-compose", loads the shipped rules read-only', () => {
    expect(promConfigSource).toBe(`${DIR}/prometheus/prometheus.yml`);
    expect(mounts('prometheus').find((m) => m.target === promConfigPath)?.readOnly).toBe(true);
    // The app's side: the route and the port.
    expect(appJob.metrics_path).toBe('/metrics');
    const targets = (appJob.static_configs as Obj[]).flatMap((c) => c.targets as string[]);
    expect(targets).toEqual([`api:${exposed}`]);
    expect(appJob.static_configs[0].labels).toEqual({ namespace: 'laundry-compose' });
    // The alert rules and dashboard select job="laundry-api".
    expect(readFileSync('deploy/monitoring/prometheus/alerts.yml', 'utf8')).toMatch(/job="laundry-api"/);

    // The token: the same env-file variable as the api's; written by the entrypoint to the file
    // credentials_file names, on a tmpfs of this service.
    expect(appJob.authorization.type).toBe('Bearer');
    const tokenPath = inPromContainer(appJob.authorization.credentials_file);
    expect(services.prometheus!.environment.METRICS_TOKEN).toBe((services.api!.environment as Obj).METRICS_TOKEN);
    const [sh, dashC, script, ...rest] = resolved.prometheus!.entrypoint as string[];
    expect([sh, dashC, rest]).toEqual(['/bin/sh', '-c', ['prometheus']]);
    expect(script).toContain(`printf '%s' "$METRICS_TOKEN" > ${tokenPath}\n`);
    expect(script).toMatch(/exec \/bin\/prometheus "\$@"\n?$/);
    expect((services.prometheus!.tmpfs as string[]).map((t) => t.split(':')[0]).some((t) => tokenPath.startsWith(`${t}/`))).toBe(true);
    expect(hostFileOf('prometheus', tokenPath)).toBeUndefined();

    // The rules: the shipped file, unchanged, read-only.
    expect(promConfig.rule_files).toHaveLength(1);
    const rulesPath = inPromContainer(promConfig.rule_files[0]);
    const rulesMount = mounts('prometheus').find((m) => m.target === rulesPath)!;
    expect(rulesMount).toMatchObject({ source: 'deploy/monitoring/prometheus/alerts.yml', readOnly: true });
    // Storage on a volume.
    expect(mounts('prometheus').find((m) => m.target === promArg('storage.tsdb.path'))).toMatchObject({ bind: false, source: 'prometheus-data' });
  });

  it('grafana: the shipped dashboard provider and dashboard read-only, a compose datasource pointing at the prometheus service, admin password from the env file', () => {
    const g = services.grafana!;
    const provisioning = mounts('grafana').filter((m) => m.target.startsWith('/etc/grafana/provisioning/'));
    for (const m of mounts('grafana').filter((x) => x.bind)) expect(m.readOnly, m.target).toBe(true);

    const provider = provisioning.find((m) => m.target.startsWith('/etc/grafana/provisioning/dashboards/'))!;
    expect(provider.source).toBe('deploy/monitoring/grafana/provisioning/dashboards/laundry-api.yml');
    const path = (parseYaml(readFileSync(provider.source, 'utf8')) as Obj).providers[0].options.path as string;
    expect(hostFileOf('grafana', `${path}/laundry-api.json`)).toBe('deploy/monitoring/grafana/dashboards/laundry-api.json');
    expect(hostFileOf('grafana', g.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH)).toBe('deploy/monitoring/grafana/dashboards/laundry-api.json');

    const dsMount = provisioning.find((m) => m.target.startsWith('/etc/grafana/provisioning/datasources/'))!;
    expect(dsMount.source).toBe(`${DIR}/grafana/datasources/prometheus.yml`);
    const ds = (parseYaml(readFileSync(dsMount.source, 'utf8')) as Obj).datasources[0] as Obj;
    const shared = (parseYaml(readFileSync('deploy/monitoring/grafana/provisioning/datasources/prometheus.yml', 'utf8')) as Obj).datasources[0] as Obj;
    // The shared file with the compose URL only.
    expect({ ...ds, url: shared.url }).toEqual(shared);
    expect(ds.url).toBe(`http://prometheus:${promArg('web.listen-address')!.split(':').at(-1)}`);
    expect(ds.jsonData.timeInterval).toBe(appJob.scrape_interval);

    expect(g.environment.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    expect(g.environment.GF_USERS_ALLOW_SIGN_UP).toBe('false');
    expect(resolved.grafana!.ports).toEqual([`${example.GRAFANA_BIND}:${example.GRAFANA_PORT}:3000`]);
    expect(mounts('grafana').find((m) => m.target === '/var/lib/grafana')).toMatchObject({ bind: false, source: 'grafana-data' });
  });

  it('every image from a registry is pinned to a version tag; the app image is built here', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
    }
  });
});

/**
 * The compose Prometheus's /etc/prometheus as its container sees it, in `root`: each bind mount
 * under the config's folder copied to the same relative place, and the token file the
 * entrypoint writes on the tmpfs. `targets` rewrites scrape targets (a container name → a local
 * address). Returns the config file's path.
 */
function layoutPrometheus(root: string, targets: Record<string, string> = {}): string {
  const etc = posix.dirname(promConfigPath);
  for (const m of mounts('prometheus').filter((x) => x.bind && x.target.startsWith(`${etc}/`))) {
    const dest = join(root, m.target.slice(etc.length + 1));
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(m.source, dest, { recursive: statSync(m.source).isDirectory() });
  }
  const tokenFile = join(root, relative(etc, inPromContainer(appJob.authorization.credentials_file)));
  mkdirSync(dirname(tokenFile), { recursive: true });
  writeFileSync(tokenFile, interpolate((services.prometheus!.environment as Obj).METRICS_TOKEN, example));
  const configFile = join(root, relative(etc, promConfigPath));
  let text = readFileSync(configFile, 'utf8');
  for (const [from, to] of Object.entries(targets)) {
    expect(text).toContain(`"${from}"`);
    text = text.replaceAll(`"${from}"`, `"${to}"`);
  }
  writeFileSync(configFile, text);
  return configFile;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const serverDb = process.env.TEST_DATABASE_URL;
describe('the compose services’ commands and environment, run for real (no Docker: the source entry, a local PostgreSQL)', () => {
  it('runs the check below whenever CI requires the PostgreSQL server', () => {
    if (process.env.REQUIRE_SERVER_DB === '1') expect(serverDb).toBeTruthy();
  });

  let server: (ServerProcess & { port: number }) | undefined;
  afterAll(async () => {
    if (server) await stopServer(server);
    if (serverDb) await dropServerDatabase(serverDb, 'laundry_compose');
  });

  it.runIf(serverDb)(
    'migrate migrates an empty database; the api starts in production with the example env, is healthy by its healthcheck, and serves /metrics to the compose scrape',
    async () => {
      // The compose DATABASE_URL with the host, port and database of a fresh local database.
      const local = new URL(await emptyServerDatabase(serverDb!, 'laundry_compose'));
      const withLocalDb = (env: Record<string, string>) => {
        const url = new URL(env.DATABASE_URL!);
        url.host = local.host;
        url.pathname = local.pathname;
        url.username = local.username;
        url.password = local.password;
        return { ...env, DATABASE_URL: url.toString() };
      };
      const base = { PATH: process.env.PATH ?? '', HOME: tmpdir() };

      // migrate: its command (the image's node entry, here from source) with its environment.
      const migrateArgs = (services.migrate!.command as string[]).slice(2);
      execFileSync(process.execPath, ['--import', 'tsx', 'src/node.ts', ...migrateArgs], { env: { ...base, ...withLocalDb(containerEnv('migrate')) }, stdio: 'pipe', timeout: 120_000 });
      const check = new pg.Client({ connectionString: withLocalDb(containerEnv('migrate')).DATABASE_URL });
      await check.connect();
      const { rows } = await check.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('orders', 'payments', 'users', 'job_leases')`);
      await check.end();
      expect(Number(rows[0]!.n)).toBe(4);

      // api: the image's CMD with the api's environment, on a free port (PORT is what the healthcheck reads).
      const port = await freePort();
      const env = { ...withLocalDb(containerEnv('api')), PORT: String(port), HOST: '127.0.0.1' };
      server = { ...spawnServer(env), port };
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        if (server.child.exitCode !== null) throw new Error(`the api exited ${server.child.exitCode}:\n${server.output()}`);
        // The JSON log line (written asynchronously, after or before the banner) names the environment.
        if (/listening on/.test(server.output()) && /"msg":"listening"/.test(server.output())) break;
        // A guard against a hung start, not a speed check (a loaded 2-core runner).
        if (i > 1200) throw new Error(`not listening after 120 s:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(server.output()).toMatch(/"msg":"listening".*"database":"node-postgres".*"appEnv":"production"/);

      // The compose healthcheck, as Docker runs it in the container (exit 0 = healthy).
      const [, hc, ...hcArgs] = services.api!.healthcheck.test as string[];
      expect(hc).toBe('node');
      const hcRun = spawnSync(process.execPath, hcArgs, { env: { PORT: String(port) }, timeout: 30_000 });
      expect(hcRun.status, String(hcRun.stderr)).toBe(0);

      // /metrics as the compose Prometheus asks: the token its entrypoint writes from the same variable.
      const token = interpolate((services.prometheus!.environment as Obj).METRICS_TOKEN, example);
      const scrape = await fetch(`${url}${appJob.metrics_path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/^app_info\{[^}]*runtime="node"/m);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
    },
    240_000,
  );

  describeWithTools([PROMETHEUS], 'a real Prometheus with the compose configuration scrapes that api', () => {
    let prometheus: ChildProcess | undefined;
    const promDir = mkdtempSync(join(tmpdir(), 'compose-prometheus-'));
    afterAll(() => {
      if (prometheus?.exitCode === null) prometheus.kill('SIGKILL');
      rmSync(promDir, { recursive: true, force: true });
    });

    it.runIf(serverDb)(
      'up{job="laundry-api", namespace="laundry-compose"} is 1 (the token file works) and the shipped rules are loaded',
      async () => {
        expect(server, 'the api of the test above').toBeDefined();
        const promPort = await freePort();
        const selfTarget = (promConfig.scrape_configs as Obj[]).find((j) => j.job_name === 'prometheus')!.static_configs[0].targets[0] as string;
        const configFile = layoutPrometheus(join(promDir, 'etc'), { [`api:${exposed}`]: `127.0.0.1:${server!.port}`, [selfTarget]: `127.0.0.1:${promPort}` });
        let log = '';
        prometheus = spawn(
          'prometheus',
          [`--config.file=${configFile}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        prometheus.stdout!.on('data', (c: Buffer) => (log += c.toString()));
        prometheus.stderr!.on('data', (c: Buffer) => (log += c.toString()));
        const api = `http://127.0.0.1:${promPort}/api/v1`;
        const query = async (q: string) => {
          const res = await fetch(`${api}/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
          if (!res?.ok) return undefined;
          return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
        };
        let up: { metric: Record<string, string>; value: [number, string] }[] | undefined;
        // The first scrape lands within one scrape_interval (15 s) of the start; a generous bound for a loaded runner.
        for (let i = 0; i < 180; i++) {
          if (prometheus.exitCode !== null) throw new Error(`prometheus exited ${prometheus.exitCode}:\n${log}`);
          up = await query('up{job="laundry-api"}');
          if (up?.length) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        expect(up, log).toHaveLength(1);
        expect(up![0]!.metric).toMatchObject({ job: 'laundry-api', namespace: 'laundry-compose' });
        expect(up![0]!.value[1]).toBe('1');
        // The app's series carry the label the rules aggregate by.
        const info = await query('app_info{job="laundry-api"}');
        expect(info?.[0]?.metric).toMatchObject({ namespace: 'laundry-compose', runtime: 'node' });

        const rules = (await (await fetch(`${api}/rules`)).json()) as { data: { groups: { file: string; rules: unknown[] }[] } };
        const shipped = parseYaml(readFileSync('deploy/monitoring/prometheus/alerts.yml', 'utf8')) as { groups: { rules: unknown[] }[] };
        expect(rules.data.groups.map((g) => g.rules.length)).toEqual(shipped.groups.map((g) => g.rules.length));
      },
      180_000,
    );
  });

  it.runIf(serverDb)('the api drains and exits 0 on SIGTERM, within the stop_grace_period Compose gives it', async () => {
    expect(server).toBeDefined();
    const started = performance.now();
    expect(await stopServer(server!)).toBe(0);
    server = undefined;
    expect(performance.now() - started).toBeLessThan(seconds(services.api!.stop_grace_period) * 1000);
  });
});

describeWithTools([DOCKER_COMPOSE], 'docker-compose config (Debian’s docker-compose, no daemon needed)', () => {
  /** `docker-compose … config` with only PATH and HOME from the environment: the env file decides. */
  const config = (envFile: string) =>
    spawnSync('docker-compose', ['--env-file', envFile, '-f', COMPOSE_FILE, 'config'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('accepts compose.yaml with the example env file and resolves every service as this test does', () => {
    const run = config(ENV_EXAMPLE);
    expect(run.status, run.stderr).toBe(0);
    const out = parseYaml(run.stdout) as Obj;
    expect(Object.keys(out.services as Obj).sort()).toEqual(Object.keys(services).sort());
    for (const name of Object.keys(services)) {
      expect(out.services[name].environment ?? {}, name).toEqual(resolved[name]!.environment ?? {});
      if (resolved[name]!.ports) expect((out.services[name].ports as string[]).map((p) => p.replace(/\/tcp$/, '')), name).toEqual(resolved[name]!.ports);
    }
    expect(out.services.api.depends_on).toEqual(services.api!.depends_on);
    expect(out.services.api.image).toBe(resolved.api!.image);
    expect(out.services.api.build.context).toBe(resolve('.'));
  });

  it('refuses to resolve when a secret is missing from the env file, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-env-'));
    try {
      const envFile = join(dir, '.env');
      writeFileSync(envFile, readFileSync(ENV_EXAMPLE, 'utf8').replace(/^METRICS_TOKEN=.*$/m, ''));
      const run = config(envFile);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/set METRICS_TOKEN in deploy\/compose\/\.env/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithTools([PROMTOOL], 'promtool check config on the compose Prometheus, laid out as its container sees it', () => {
  it('the config, its rule file and its credentials file check', () => {
    const root = mkdtempSync(join(tmpdir(), 'compose-prom-'));
    try {
      const configFile = layoutPrometheus(root);
      const run = spawnSync('promtool', ['check', 'config', configFile], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/SUCCESS: 1 rule files found/);
      expect(run.stdout).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
