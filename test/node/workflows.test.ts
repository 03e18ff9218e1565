/**
 * GitHub workflows: the supply chain and the one CI definition.
 *
 * - Every third-party action (workflows and .github/actions/*) is pinned by a full 40-hex commit
 *   SHA with its version in a comment (`uses: actions/checkout@<sha> # v4.2.2`): a tag can be
 *   moved to other code, a commit cannot.
 *   https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions
 * - Secrets live only in the steps that use them: never in a workflow's or a job's `env`, and never
 *   beside `npm ci`/`npm install`, whose dependencies' install scripts could read them.
 * - ci.yml's test job runs `.ci/run`, the script local CI runs, against a postgres:15 service;
 *   `.ci/install-tools` installs every tool test/support/tools.ts exports (checked here by
 *   running it against a fake apt-get, as root and as a sudo user).
 * - Dependabot keeps npm packages, the actions and the Dockerfile's base image current.
 *
 * Each checker is also run on a known-bad workflow, so a checker that finds nothing is caught.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import * as toolsModule from '../support/tools.js';
import type { Tool } from '../support/tools.js';

type Obj = Record<string, any>;

interface Source {
  file: string;
  text: string;
  doc: Obj;
}

const WORKFLOWS = '.github/workflows';
const ACTIONS = '.github/actions';

function loadSources(): Source[] {
  const files = [
    ...readdirSync(WORKFLOWS)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(WORKFLOWS, f)),
    ...readdirSync(ACTIONS)
      .map((d) => ['action.yml', 'action.yaml'].map((f) => join(ACTIONS, d, f)).find((p) => existsSync(p)))
      .filter((p): p is string => p !== undefined),
  ];
  return files.map((file) => {
    const text = readFileSync(file, 'utf8');
    return { file, text, doc: parseYaml(text) as Obj };
  });
}

const jobsOf = (doc: Obj): Obj[] => Object.values((doc.jobs ?? {}) as Obj);
/** Steps of a workflow's jobs, or of a composite action. */
const stepsOf = (doc: Obj): Obj[] => [...jobsOf(doc).flatMap((j) => (j.steps ?? []) as Obj[]), ...((doc.runs?.steps ?? []) as Obj[])];
/** Every `uses:` value: steps, and jobs that call a reusable workflow. */
const usesOf = (doc: Obj): string[] => [
  ...jobsOf(doc).flatMap((j) => (typeof j.uses === 'string' ? [j.uses] : [])),
  ...stepsOf(doc).flatMap((s) => (typeof s.uses === 'string' ? [s.uses] : [])),
];
const isLocal = (uses: string) => uses.startsWith('./');
const mentionsSecret = (value: unknown) => /\bsecrets\./.test(JSON.stringify(value ?? {}));

/** Problems with action pinning: not a 40-hex SHA, or no `# v…` comment on the line. */
function pinningProblems(src: Source): string[] {
  const problems: string[] = [];
  const lines = src.text.split('\n');
  for (const uses of usesOf(src.doc)) {
    if (isLocal(uses)) continue;
    if (uses.startsWith('docker://')) {
      if (!/@sha256:[0-9a-f]{64}$/.test(uses)) problems.push(`${src.file}: ${uses} is not pinned by digest`);
      continue;
    }
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses)) {
      problems.push(`${src.file}: ${uses} is not pinned to a full commit SHA`);
      continue;
    }
    const escaped = uses.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const line = lines.find((l) => new RegExp(`^\\s*(?:-\\s+)?uses:\\s*['"]?${escaped}['"]?(\\s|$)`).test(l));
    if (!line || !/\s#\s*v\d+(\.\d+)*\s*$/.test(line)) problems.push(`${src.file}: ${uses} has no "# v<version>" comment`);
  }
  return problems;
}

/** Secrets where more than the steps that use them can read them. */
function secretPlacementProblems(src: Source): string[] {
  const problems: string[] = [];
  if (mentionsSecret(src.doc.env)) problems.push(`${src.file}: workflow-level env references secrets`);
  for (const [name, job] of Object.entries((src.doc.jobs ?? {}) as Obj)) {
    if (mentionsSecret(job.env)) problems.push(`${src.file}: job ${name} env references secrets`);
  }
  for (const step of stepsOf(src.doc)) {
    if (/\bnpm\s+(ci|install|i)\b/.test(String(step.run ?? '')) && mentionsSecret(step.env)) {
      problems.push(`${src.file}: step "${step.name ?? step.run}" installs packages with a secret in its env`);
    }
  }
  return problems;
}

const sources = loadSources();

describe('checkers catch what they look for (a known-bad workflow)', () => {
  const bad: Source = {
    file: 'bad.yml',
    text: [
      'env:',
      '  TOKEN: ${{ secrets.A }}',
      'jobs:',
      '  j:',
      '    env:',
      '      TOKEN: ${{ secrets.B }}',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020',
      '      - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3',
      '      - uses: ./.github/actions/local',
      '      - run: npm ci',
      '        env:',
      '          TOKEN: ${{ secrets.C }}',
    ].join('\n'),
    doc: {},
  };
  bad.doc = parseYaml(bad.text) as Obj;

  it('a tag, and a SHA without its version comment, are refused; a commented SHA and a local action pass', () => {
    expect(pinningProblems(bad)).toEqual([
      'bad.yml: actions/checkout@v4 is not pinned to a full commit SHA',
      'bad.yml: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 has no "# v<version>" comment',
    ]);
  });

  it('secrets in workflow env, job env and beside npm ci are all reported', () => {
    expect(secretPlacementProblems(bad)).toEqual([
      'bad.yml: workflow-level env references secrets',
      'bad.yml: job j env references secrets',
      'bad.yml: step "npm ci" installs packages with a secret in its env',
    ]);
  });
});

describe('supply chain', () => {
  it('reads every workflow and composite action', () => {
    const files = sources.map((s) => s.file);
    expect(files).toEqual(expect.arrayContaining([`${WORKFLOWS}/ci.yml`, `${WORKFLOWS}/worker-release.yml`, `${WORKFLOWS}/k8s-rollout.yml`, `${ACTIONS}/notify-slack/action.yml`]));
    expect(sources.flatMap((s) => usesOf(s.doc)).filter((u) => !isLocal(u)).length).toBeGreaterThan(10);
  });

  it('every third-party action is pinned to a 40-hex commit SHA with "# v<version>" on its line', () => {
    expect(sources.flatMap(pinningProblems)).toEqual([]);
  });

  it('one action at one commit carries one version comment everywhere', () => {
    const versions = new Map<string, Set<string>>();
    for (const src of sources) {
      for (const m of src.text.matchAll(/uses:\s*([\w.-]+\/[\w./-]+@[0-9a-f]{40})\s+#\s*(v[\d.]+)/g)) {
        versions.set(m[1]!, (versions.get(m[1]!) ?? new Set()).add(m[2]!));
      }
    }
    expect(versions.size).toBeGreaterThan(3);
    for (const [uses, v] of versions) expect([...v], uses).toHaveLength(1);
  });

  it('no workflow-level or job-level env holds a secret, and no package install step sees one', () => {
    expect(sources.flatMap(secretPlacementProblems)).toEqual([]);
  });

  it('worker-release: the Cloudflare token reaches only the release step, never npm ci', () => {
    const release = sources.find((s) => s.file.endsWith('worker-release.yml'))!.doc.jobs.release as Obj;
    const withToken = (release.steps as Obj[]).filter((s) => /secrets\.CLOUDFLARE_API_TOKEN/.test(JSON.stringify(s.env ?? {})));
    expect(withToken.map((s) => String(s.run))).toEqual([expect.stringMatching(/^npm run release -- --env /)]);
    const install = (release.steps as Obj[]).find((s) => /^npm ci\b/.test(String(s.run ?? '')))!;
    expect(install.env).toBeUndefined();
  });

  it('Dependabot updates npm, the actions (workflows and composite actions) and the Dockerfile base image, weekly', () => {
    const config = parseYaml(readFileSync('.github/dependabot.yml', 'utf8')) as Obj;
    expect(config.version).toBe(2);
    const updates = config.updates as Obj[];
    const byEcosystem = (e: string) => updates.find((u) => u['package-ecosystem'] === e);
    const dirs = (u: Obj): string[] => (u.directories as string[] | undefined) ?? [u.directory as string];
    for (const e of ['npm', 'github-actions', 'docker']) {
      expect(byEcosystem(e), e).toBeDefined();
      expect(byEcosystem(e)!.schedule.interval, e).toBe('weekly');
    }
    expect(dirs(byEcosystem('npm')!)).toContain('/');
    expect(existsSync('package-lock.json')).toBe(true);
    expect(dirs(byEcosystem('github-actions')!)).toEqual(expect.arrayContaining(['/', '/.github/actions/*']));
    const dockerDir = dirs(byEcosystem('docker')!)[0]!;
    expect(readFileSync(join('.', dockerDir, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:/m);
    // Grouped: routine bumps arrive as a few pull requests, not one per package.
    expect(Object.keys(byEcosystem('github-actions')!.groups ?? {}).length).toBeGreaterThan(0);
    expect(Object.keys(byEcosystem('npm')!.groups ?? {}).length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------

const ci = sources.find((s) => s.file.endsWith('/ci.yml'))!.doc;
const ciRun = readFileSync('.ci/run', 'utf8');
const installTools = readFileSync('.ci/install-tools', 'utf8');
/** Lines that are not comments. */
const code = (text: string) =>
  text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');

/** The tools the tests declare (every `Tool` test/support/tools.ts exports). */
const declaredTools: Tool[] = Object.values(toolsModule).filter(
  (v): v is Tool => typeof v === 'object' && v !== null && typeof (v as Tool).command === 'string' && typeof (v as Tool).install === 'string',
);
/** The package a tool's install hint names: the last word of its `apt-get install …`. */
const packageOf = (tool: Tool) => /apt-get install\b.*?(\S+)\s*$/.exec(tool.install)?.[1];

describe('one CI definition: GitHub runs .ci/run', () => {
  it("ci.yml's test job: a postgres:15 service on 5432 (trust, database test), then only checkout, Node 22 and `bash .ci/run`", () => {
    const [name, job] = Object.entries(ci.jobs as Obj).find(([, j]) => (j as Obj).services?.postgres) as [string, Obj];
    expect(name).toBe('test');
    const pg = job.services.postgres as Obj;
    expect(pg.image).toBe('postgres:15');
    expect(pg.env).toMatchObject({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'test' });
    expect(pg.ports).toEqual(['5432:5432']);
    expect(pg.options).toMatch(/--health-cmd/);
    expect(job.env.TEST_DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/test');
    const steps = job.steps as Obj[];
    expect(steps.map((s) => String(s.uses ?? '').split('@')[0] || s.run)).toEqual(['actions/checkout', 'actions/setup-node', 'bash .ci/run']);
    expect(String(steps[1]!.with['node-version'])).toBe('22');
    expect(job['timeout-minutes']).toBeGreaterThanOrEqual(30);
  });

  it('.ci/run requires the tools and the server, installs the tools first, and runs the tests and the alert rules', () => {
    const body = code(ciRun);
    expect(body).toMatch(/^export REQUIRE_TOOLS=1$/m);
    expect(body).toMatch(/^export REQUIRE_SERVER_DB=1$/m);
    expect(body).toMatch(/^bash \.ci\/install-tools$/m);
    const at = (re: RegExp) => body.search(re);
    expect(at(/^bash \.ci\/install-tools$/m)).toBeLessThan(at(/^npm ci\b/m));
    expect(at(/^npm ci\b/m)).toBeLessThan(at(/^npm test\b/m));
    expect(body).toMatch(/^npm run test:alerts$/m);
    expect(body).toMatch(/^bash scripts\/smoke-dev\.sh$/m);
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toMatch(/npm run typecheck && npm run lint .*tools\/test\/run\.ts$/);
    // Its summary file is printed again as the closing lines, whatever fails after it.
    expect(body).toMatch(/^export VITEST_SUMMARY_FILE="\$summary"$/m);
    expect(at(/^trap 'cat "\$summary"[^\n]*' EXIT$/m)).toBeGreaterThan(-1);
    expect(at(/^trap 'cat "\$summary"/m)).toBeLessThan(at(/^npm test\b/m));
    expect(scripts['test:alerts']).toMatch(/^promtool /);
  });

  it('.ci/install-tools has a `need <command> <package>` line for every tool test/support/tools.ts exports', () => {
    expect(declaredTools.map((t) => t.command)).toEqual(expect.arrayContaining(['promtool', 'prometheus', '/usr/bin/chromium', 'docker-compose']));
    const needs = [...code(installTools).matchAll(/^need (\S+) (\S+)(?: \S+)*$/gm)].map((m) => `${m[1]} ${m[2]}`);
    for (const tool of declaredTools) {
      expect(packageOf(tool), tool.command).toBeTruthy();
      // The probe .ci/install-tools uses is `--version`; a tool with other probe args needs a new line type.
      expect(tool.probeArgs ?? ['--version'], tool.command).toEqual(['--version']);
      expect(needs, tool.command).toContain(`${tool.command} ${packageOf(tool)}`);
    }
    expect(needs).toEqual(expect.arrayContaining(['jq jq', 'pg_isready postgresql-client']));
  });

  describe('.ci/install-tools against a fake apt-get (only what is missing, through sudo when not root)', () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    /** Runs the script with PATH = a folder of fakes; returns the commands the fakes saw. */
    function run(opts: { uid: number; present: string[] }): { status: number | null; calls: string[]; stderr: string } {
      const dir = mkdtempSync(join(tmpdir(), 'laundry-install-tools-'));
      dirs.push(dir);
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      const log = join(dir, 'calls.log');
      const fake = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };
      fake('id', `[ "$1" = -u ] && echo ${opts.uid}`);
      fake('sudo', `echo "sudo $*" >> ${log}; [ "$1" = -n ] && shift; exec "$@"`);
      fake('apt-get', `echo "apt-get $*" >> ${log}`);
      for (const tool of opts.present) fake(tool, 'echo "fake 1.0"');
      for (const real of ['env', 'sort']) symlinkSync(spawnSync('bash', ['-c', `command -v ${real}`], { encoding: 'utf8' }).stdout.trim(), join(bin, real));
      const r = spawnSync('/bin/bash', ['.ci/install-tools'], { encoding: 'utf8', env: { PATH: bin, HOME: dir }, timeout: 60_000 });
      const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
      return { status: r.status, calls, stderr: r.stderr };
    }

    // /usr/bin/chromium is probed by absolute path, so it is found (or not) outside the fakes.
    const chromiumHere = spawnSync('/usr/bin/chromium', ['--version'], { stdio: 'ignore', env: { PATH: '/nonexistent' }, timeout: 60_000 }).status === 0;
    const expected = (pkgs: string[]) => [...pkgs, ...(chromiumHere ? [] : ['chromium'])].sort();

    it('as a sudo user (GitHub), with jq only: one update and one install of the rest, both through sudo -n', () => {
      const r = run({ uid: 1001, present: ['jq'] });
      expect(r.status, r.stderr).toBe(0);
      const packages = expected(['docker-compose', 'postgresql-client', 'prometheus', 'python3-setuptools']);
      expect(r.calls).toEqual([
        'sudo -n apt-get update -qq',
        'apt-get update -qq',
        `sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages.join(' ')}`,
        `apt-get install -y -qq --no-install-recommends ${packages.join(' ')}`,
      ]);
    });

    it('as root (here), with promtool but not prometheus: apt-get directly, the package once', () => {
      const r = run({ uid: 0, present: ['jq', 'pg_isready', 'promtool', 'docker-compose'] });
      expect(r.status, r.stderr).toBe(0);
      const packages = expected(['prometheus']);
      expect(r.calls).toEqual(['apt-get update -qq', `apt-get install -y -qq --no-install-recommends ${packages.join(' ')}`]);
      // The fake apt-get installs nothing: the script says so, and leaves the failure to the tests.
      expect(r.stderr).toContain('WARNING: prometheus still fails `prometheus --version` after the install');
    });

    it.runIf(chromiumHere)('with everything present: no apt-get at all', () => {
      const r = run({ uid: 1001, present: ['jq', 'pg_isready', 'promtool', 'prometheus', 'docker-compose'] });
      expect(r.status, r.stderr).toBe(0);
      expect(r.calls).toEqual([]);
    });
  });

  it('the compose job brings deploy/compose up on Docker, asks /readyz on the published port, prints logs on failure, always tears down', () => {
    const job = ci.jobs.compose as Obj;
    expect(job['runs-on']).toBe('ubuntu-24.04');
    const compose = String(job.env.COMPOSE);
    expect(compose).toBe('docker compose --env-file deploy/compose/.env.example -f deploy/compose/compose.yaml');
    const steps = job.steps as Obj[];
    const step = (re: RegExp) => steps.find((s) => re.test(String(s.run ?? '')));
    expect(step(/\$COMPOSE up -d --wait\b.*--build/)).toBeDefined();
    expect(String(step(/\/readyz/)!.run)).toMatch(/\$COMPOSE port api 3000/);
    expect(step(/\$COMPOSE logs/)!.if).toBe('failure()');
    expect(step(/\$COMPOSE down -v/)!.if).toBe('always()');
  });

  it('the worker bundle and Docker image jobs stay', () => {
    expect(Object.keys(ci.jobs as Obj)).toEqual(expect.arrayContaining(['test', 'worker-bundle', 'docker', 'compose']));
  });
});
