/**
 * The Docker image without Docker: both stages are rebuilt in temporary folders from the
 * Dockerfile's own COPY/RUN/ENV/CMD lines (and .dockerignore), then the server is started
 * with the image's CMD and checked. If the Dockerfile forgets a file the runtime needs (the
 * migrations, the Argon2id wasm in node_modules, package.json's "type"), this fails.
 *
 * Outside Docker we cannot reproduce: the base image itself, USER (checked as text) and the
 * read-only root filesystem (approximated: with DATABASE_URL set, the app directory and
 * TMPDIR must be byte-for-byte unchanged after serving).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { copies, dockerignore, execForm, readDockerfile, stageEnv, workdir, type Stage } from './dockerfile.js';

const root = process.cwd();
const tmp = mkdtempSync(join(tmpdir(), 'laundry-image-'));
const stages = readDockerfile();
const build = stages[0]!;
const runtime = stages.at(-1)!;
const ignored = dockerignore(readFileSync('.dockerignore', 'utf8'));
const dirs: Record<string, string> = {};
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** COPY from the build context, honouring .dockerignore as the Docker client does. */
function copyFromContext(source: string, dest: string) {
  const rel = relative(root, resolve(root, source));
  if (ignored(rel)) throw new Error(`COPY ${source}: excluded by .dockerignore`);
  if (!existsSync(rel)) throw new Error(`COPY ${source}: not in the build context`);
  cpSync(rel, dest, { recursive: true, filter: (src) => !ignored(relative(root, resolve(src))) || resolve(src) === resolve(rel) });
}

/** Reproduces one stage's COPY and RUN lines in `dir` (WORKDIR maps to `dir`). */
function reproduce(stage: Stage, dir: string, onRun: (command: string) => void) {
  mkdirSync(dir, { recursive: true });
  const wd = workdir(stage);
  const toLocal = (dest: string) => resolve(dir, relative(wd, resolve(wd, dest)));
  const copyList = copies(stage);
  for (const ins of stage.instructions) {
    if (ins.op === 'COPY') {
      const c = copyList.shift()!;
      const destIsDir = c.dest.endsWith('/') || c.sources.length > 1;
      for (const source of c.sources) {
        const target = destIsDir ? join(toLocal(c.dest), source.split('/').at(-1)!) : toLocal(c.dest);
        mkdirSync(dirname(target), { recursive: true });
        if (c.from) {
          const fromStage = stages.find((s) => s.name === c.from);
          if (!fromStage || !dirs[c.from]) throw new Error(`COPY --from=${c.from}: unknown stage`);
          const inStage = resolve(dirs[c.from]!, relative(workdir(fromStage), source));
          if (!existsSync(inStage)) throw new Error(`COPY --from=${c.from} ${source}: the stage has no such path`);
          cpSync(inStage, target, { recursive: true });
        } else {
          copyFromContext(source, target);
        }
      }
    } else if (ins.op === 'RUN') {
      onRun(ins.args);
    }
  }
}

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = process.env) {
  execFileSync('sh', ['-c', command], { cwd, env, stdio: 'pipe', timeout: 180_000 });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Runs `node …args` in the runtime folder to completion: exit code and everything it printed. */
function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: dirs.runtime, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

/** Starts the image's CMD in the runtime folder with the image's ENV plus `env`. */
async function startCmd(env: Record<string, string>) {
  const [command, ...args] = execForm(runtime.instructions.filter((i) => i.op === 'CMD').at(-1)!.args);
  const port = await freePort();
  const child = spawn(command === 'node' ? process.execPath : command!, args, {
    cwd: dirs.runtime,
    env: { PATH: process.env.PATH ?? '', ...stageEnv(runtime), HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the image's CMD exited ${child.exitCode}:\n${output}`);
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    // A guard against a hung start, not a speed check: a loaded 2-core runner can take tens of seconds.
    if (i > 1200) throw new Error(`not listening after 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, child, exited, output: () => output };
}

/** Every file under `dir` with its size and mtime: what "wrote nothing" is checked against. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      out.push(`${relative(dir, p)} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(dir);
  return out.sort();
}

describe('the Dockerfile', () => {
  it('is two stages on node:22-slim; the runtime installs production dependencies only and runs as a non-root user', () => {
    expect(stages.map((s) => s.from)).toEqual(['node:22-slim', 'node:22-slim']);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runs = runtime.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(copies(runtime).some((c) => c.from === build.name)).toBe(true);
    // node_modules never comes from the build stage (it holds dev dependencies).
    expect(copies(runtime).flatMap((c) => c.sources).some((s) => s.includes('node_modules'))).toBe(false);
    const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(runtime.instructions.find((i) => i.op === 'EXPOSE')?.args).toBe('3000');
    expect(stageEnv(runtime).PORT).toBe('3000');
    expect(execForm(runtime.instructions.find((i) => i.op === 'CMD')!.args)).toEqual(['node', 'dist/src/node.js']);
    const health = runtime.instructions.find((i) => i.op === 'HEALTHCHECK')!;
    expect(health.args).toMatch(/^CMD \[/);
    expect(health.args).toContain('/healthz');
  });

  it('.dockerignore keeps local state and secrets out of the context, and lets the sources in', () => {
    for (const p of ['node_modules', 'dist', '.data/pglite/x', '.env', '.dev.vars', '.git/HEAD', 'test/node/x.ts']) expect(ignored(p), p).toBe(true);
    for (const p of ['package.json', 'package-lock.json', 'src/node.ts', 'migrations/0000_foundation.sql', 'tsconfig.build.json']) expect(ignored(p), p).toBe(false);
  });
});

// Builds and starts the real image's files: the bounds stop a hang, they do not measure speed.
describe('the image, rebuilt outside Docker', { timeout: 180_000 }, () => {
  beforeAll(() => {
    // Build stage: its COPY lines, then its RUN lines (npm ci is replaced by the repository's
    // own node_modules: same lockfile, and the build only needs the compiler).
    dirs[build.name] = join(tmp, 'build');
    reproduce(build, dirs[build.name]!, (command) => {
      if (/^npm ci\b/.test(command)) symlinkSync(join(root, 'node_modules'), join(dirs[build.name]!, 'node_modules'), 'dir');
      else sh(command, dirs[build.name]!);
    });
    // Runtime stage: its COPY lines and a real production install from the lockfile.
    dirs.runtime = join(tmp, 'runtime');
    reproduce(runtime, dirs.runtime, (command) => {
      expect(command).toMatch(/\bnpm ci\b.*--omit=dev/);
      // Not `npm cache clean`: that would empty this machine's cache.
      sh('npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline', dirs.runtime!, { ...process.env, npm_config_loglevel: 'error' });
    });
  }, 240_000);

  it('holds production dependencies only, and everything the server reads at runtime', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(dirs.runtime!, 'node_modules', dep)), dep).toBe(true);
    for (const dev of ['wrangler', 'typescript', 'vitest', 'tsx', 'eslint', 'drizzle-kit', '@cloudflare/vitest-pool-workers']) {
      expect(existsSync(join(dirs.runtime!, 'node_modules', dev)), dev).toBe(false);
    }
    expect(existsSync(join(dirs.runtime!, 'node_modules/argon2id/dist/simd.wasm'))).toBe(true);
    expect(existsSync(join(dirs.runtime!, 'migrations/meta/_journal.json'))).toBe(true);
    expect(existsSync(join(dirs.runtime!, 'dist/src/node.js'))).toBe(true);
    // The password-hashing threads' file (plain JavaScript, copied by tsc: src/auth/hash-pool.ts).
    expect(existsSync(join(dirs.runtime!, 'dist/src/auth/argon2-node.mjs'))).toBe(true);
    expect(existsSync(join(dirs.runtime!, 'src'))).toBe(false);
  });

  it('serves /healthz, /readyz, /v1/services and the /docs files with the image’s CMD, passes its HEALTHCHECK, and stops on SIGTERM', async () => {
    const server = await startCmd({ APP_ENV: 'development', PGLITE_DIR: join(tmp, 'pglite') });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('x-app-version')).toBe(stageEnv(runtime).APP_VERSION);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: { status: 'ok' } } });
    const services = await fetch(`${server.url}/v1/services`);
    expect(services.status).toBe(200);
    expect(((await services.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
    // /docs reads Swagger UI from the image's production node_modules (swagger-ui-dist).
    const bundle = await fetch(`${server.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(1_000_000);

    // The HEALTHCHECK command, as Docker would run it inside the container.
    const [hc, ...hcArgs] = execForm(runtime.instructions.find((i) => i.op === 'HEALTHCHECK')!.args.replace(/^CMD\s+/, ''));
    expect(hc).toBe('node');
    execFileSync(process.execPath, hcArgs, { cwd: dirs.runtime, env: { PORT: String(server.port) }, timeout: 10_000 });

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 60_000);

  const serverDb = process.env.TEST_DATABASE_URL;
  it('runs the production-mode check below whenever CI requires the PostgreSQL server', () => {
    if (process.env.REQUIRE_SERVER_DB === '1') expect(serverDb).toBeTruthy();
  });

  it.runIf(serverDb)(
    'production mode on PostgreSQL: the migration Job’s command migrates, the server writes nothing to disk',
    async () => {
      const name = `laundry_test_image${process.env.TEST_DB_SUFFIX ?? ''}`;
      const admin = new pg.Client({ connectionString: serverDb });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(serverDb!);
      url.pathname = `/${name}`;
      const secretEnv = {
        DATABASE_URL: url.toString(),
        JWT_SECRET: 'docker-runtime-test-jwt-secret-0123456789abcdef',
        STRIPE_SECRET_KEY: 'sk_test_docker_runtime_0123456789',
        STRIPE_WEBHOOK_SECRET: 'whsec_docker_runtime_0123456789',
        // The server refuses to start in production without it (src/platform/node/config.ts).
        METRICS_TOKEN: 'docker-runtime-test-metrics-token-0123456789',
      };
      const emptyTmp = mkdtempSync(join(tmp, 'tmpdir-'));
      const before = snapshot(dirs.runtime!);

      // The migration Job of deploy/k8s, run from the image's WORKDIR with the image's ENV.
      const job = parseYaml(readFileSync('deploy/k8s/base/migrate-job.yaml', 'utf8')) as {
        spec: { template: { spec: { containers: { command: string[] }[] } } };
      };
      const [cmd, ...cmdArgs] = job.spec.template.spec.containers[0]!.command;
      expect(cmd).toBe('node');
      execFileSync(process.execPath, cmdArgs, {
        cwd: dirs.runtime,
        env: { PATH: process.env.PATH ?? '', ...stageEnv(runtime), ...secretEnv, TMPDIR: emptyTmp, HOME: join(tmp, 'no-home') },
        stdio: 'pipe',
        timeout: 60_000,
      });
      const check = new pg.Client({ connectionString: url.toString() });
      await check.connect();
      const { rows } = await check.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('orders', 'payments', 'users')`);
      await check.end();
      expect(Number(rows[0]!.n)).toBe(3);

      // The payments CronJob's command: a full run exits 0 and logs its report; a run that
      // cannot reach Stripe exits 1 (here api.stripe.com is out of reach, or refuses the key).
      const cron = parseYaml(readFileSync('deploy/k8s/base/payments-cronjob.yaml', 'utf8')) as {
        spec: { jobTemplate: { spec: { template: { spec: { containers: { command: string[] }[] } } } } };
      };
      const [cronCmd, ...cronArgs] = cron.spec.jobTemplate.spec.template.spec.containers[0]!.command;
      expect(cronCmd).toBe('node');
      const imageEnv = { PATH: process.env.PATH ?? '', ...stageEnv(runtime), ...secretEnv, TMPDIR: emptyTmp, HOME: join(tmp, 'no-home') };
      const stripe = await startStripeStandIn();
      try {
        const ok = await runNode(cronArgs, { ...imageEnv, APP_ENV: 'development', STRIPE_API_URL: stripe.url });
        expect(ok.code, ok.output).toBe(0);
        expect(ok.output).toMatch(/"msg":"payments job".*"staleRefunds":\{"checked":0/);
      } finally {
        await stripe.close();
      }
      const unreachable = await runNode(cronArgs, imageEnv);
      expect(unreachable.code, unreachable.output).toBe(1);
      expect(unreachable.output).toMatch(/payments job: Stripe could not be asked/);
      // A mistyped command is refused (exit 2), never mistaken for starting the server.
      const typo = await runNode([cronArgs[0]!, 'migrat'], imageEnv);
      expect(typo.code, typo.output).toBe(2);
      expect(typo.output).toMatch(/unknown command migrat; .*migrate, payments-job/);

      const server = await startCmd({ ...secretEnv, TMPDIR: emptyTmp, HOME: join(tmp, 'no-home'), SHUTDOWN_DELAY_MS: '100' });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const services = await fetch(`${server.url}/v1/services`);
      expect(services.status).toBe(200);
      const login = await fetch(`${server.url}/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'image@example.test', password: 'image password' }),
      });
      expect(login.status).toBe(201);
      server.child.kill('SIGTERM');
      expect(await server.exited, server.output()).toBe(0);

      // readOnlyRootFilesystem: nothing written into the app, nor into /tmp.
      expect(snapshot(dirs.runtime!)).toEqual(before);
      expect(readdirSync(emptyTmp)).toEqual([]);
    },
    120_000,
  );
});
