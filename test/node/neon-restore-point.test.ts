/**
 * .github/actions/neon-restore-point: the step both release workflows run before migrating. Its
 * shell runs here for real (bash, curl, jq) against a stand-in of Neon's create-branch endpoint
 * (POST /projects/{project_id}/branches, https://neon.com/docs/reference/api/branches/create-project-branch)
 * that refuses what Neon refuses: no or a wrong API key (401), an unknown project or parent
 * branch (404), a body without `branch`. And both workflows take the restore point before they
 * migrate, with the API key only in that step.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Obj = Record<string, any>;
const action = parse(readFileSync('.github/actions/neon-restore-point/action.yml', 'utf8')) as Obj;
const step = action.runs.steps[0] as Obj;

const KEY = 'neon-api-key-for-tests';
const PROJECT = 'rapid-haze-373089';
const PARENT = 'br-production-123456';

interface Seen {
  method: string;
  path: string;
  auth: string | undefined;
  body: Obj | undefined;
}

function neonStandIn(opts: { failTimes?: number; noBranch?: boolean }) {
  const seen: Seen[] = [];
  let failures = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      let body: Obj | undefined;
      try {
        body = raw ? (JSON.parse(raw) as Obj) : undefined;
      } catch {
        body = undefined;
      }
      seen.push({ method: req.method!, path: req.url!, auth: req.headers.authorization, body });
      const send = (status: number, payload: Obj) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${KEY}`) return send(401, { code: '', message: 'authorization failed' });
      const m = /^\/projects\/([^/]+)\/branches$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return send(404, { code: '', message: 'not found' });
      if (m[1] !== PROJECT) return send(404, { code: '', message: 'project not found' });
      if (opts.failTimes && failures < opts.failTimes) {
        failures++;
        return send(503, { code: '', message: 'try again' });
      }
      const branch = body?.branch as Obj | undefined;
      if (!branch || typeof branch.name !== 'string') return send(400, { code: '', message: 'branch is required' });
      if (branch.parent_id !== undefined && branch.parent_id !== PARENT) return send(404, { code: '', message: 'parent branch not found' });
      if (opts.noBranch) return send(201, { operations: [] });
      send(201, {
        branch: { id: 'br-restore-point-1', project_id: PROJECT, parent_id: branch.parent_id ?? 'br-default', name: branch.name, current_state: 'init' },
        operations: [{ id: 'op-1', action: 'create_branch', status: 'running' }],
      });
    });
  });
  return { server, seen };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/**
 * Runs the step's shell as a GitHub runner would, with the inputs as its env. Asynchronous: the
 * stand-in answers from this same process.
 */
async function runStep(inputs: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'neon-restore-'));
  const output = join(dir, 'output');
  writeFileSync(output, '');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: output };
  for (const [name, expr] of Object.entries(step.env as Record<string, string>)) {
    const input = /^\$\{\{ inputs\.([a-z-]+) \}\}$/.exec(expr)![1]!;
    env[name] = inputs[input] ?? (action.inputs[input]?.default as string | undefined) ?? '';
  }
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', step.run as string], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  const out = readFileSync(output, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, output: out };
}

describe('neon-restore-point action', () => {
  let ok: ReturnType<typeof neonStandIn>;
  let okUrl: string;
  beforeAll(async () => {
    ok = neonStandIn({});
    okUrl = await listen(ok.server);
  });
  afterAll(() => ok.server.close());

  it('creates a branch of the parent with the given name, sends the key, and outputs the branch id', async () => {
    const r = await runStep({ 'api-key': KEY, 'project-id': PROJECT, 'parent-branch-id': PARENT, name: 'pre-migrate-production-abc-1-1', 'api-url': okUrl });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.output).toBe('branch-id=br-restore-point-1\n');
    const last = ok.seen.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', path: `/projects/${PROJECT}/branches`, auth: `Bearer ${KEY}` });
    expect(last.body).toEqual({ branch: { name: 'pre-migrate-production-abc-1-1', parent_id: PARENT } });
    expect(r.stdout).toContain('::notice title=Restore point::');
  });

  it('without a parent branch id: no parent_id, so Neon branches the default branch', async () => {
    const r = await runStep({ 'api-key': KEY, 'project-id': PROJECT, name: 'pre-migrate-staging-abc-1-1', 'api-url': okUrl });
    expect(r.code, r.stderr).toBe(0);
    expect(ok.seen.at(-1)!.body).toEqual({ branch: { name: 'pre-migrate-staging-abc-1-1' } });
  });

  it('fails the step (so nothing migrates) on a wrong key, an unknown project or parent, and a project without a key', async () => {
    const before = ok.seen.length;
    expect((await runStep({ 'api-key': 'wrong', 'project-id': PROJECT, name: 'x', 'api-url': okUrl })).code).not.toBe(0);
    expect((await runStep({ 'api-key': KEY, 'project-id': 'no-such-project', name: 'x', 'api-url': okUrl })).code).not.toBe(0);
    expect((await runStep({ 'api-key': KEY, 'project-id': PROJECT, 'parent-branch-id': 'br-gone', name: 'x', 'api-url': okUrl })).code).not.toBe(0);
    const noKey = await runStep({ 'project-id': PROJECT, name: 'x', 'api-url': okUrl });
    expect(noKey.code).not.toBe(0);
    expect(noKey.stdout).toContain('NEON_API_KEY is not');
    // 4xx answers are not retried: one request each for the three that reached the stand-in.
    expect(ok.seen.length - before).toBe(3);
  });

  it('without a project id: a warning, no request, success (a database not on Neon)', async () => {
    const before = ok.seen.length;
    const r = await runStep({ 'api-key': KEY, name: 'x', 'api-url': okUrl });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('::warning title=No restore point::');
    expect(r.output).toBe('');
    expect(ok.seen.length).toBe(before);
  });

  it('retries a 503, and fails on a success without a branch', async () => {
    const flaky = neonStandIn({ failTimes: 2 });
    const flakyUrl = await listen(flaky.server);
    const noBranch = neonStandIn({ noBranch: true });
    const noBranchUrl = await listen(noBranch.server);
    try {
      const r = await runStep({ 'api-key': KEY, 'project-id': PROJECT, name: 'pre-migrate-x', 'api-url': flakyUrl });
      expect(r.code, r.stderr).toBe(0);
      expect(flaky.seen.length).toBe(3);
      expect((await runStep({ 'api-key': KEY, 'project-id': PROJECT, name: 'pre-migrate-x', 'api-url': noBranchUrl })).code).not.toBe(0);
    } finally {
      flaky.server.close();
      noBranch.server.close();
    }
  }, 120_000);
});

describe('the release workflows take a restore point before migrating', () => {
  for (const [file, migrate] of [
    ['.github/workflows/worker-release.yml', /npm run db:migrate/],
    ['.github/workflows/k8s-rollout.yml', /laundry-api-migrate/],
  ] as const) {
    it(file, () => {
      const wf = parse(readFileSync(file, 'utf8')) as Obj;
      const steps = (Object.values(wf.jobs as Obj)[0] as Obj).steps as Obj[];
      const restore = steps.findIndex((s) => s.uses === './.github/actions/neon-restore-point');
      const migrating = steps.findIndex((s) => migrate.test(String(s.run ?? '')));
      expect(restore).toBeGreaterThanOrEqual(0);
      expect(restore).toBeLessThan(migrating);
      expect(steps[restore]!.with).toMatchObject({
        'api-key': '${{ secrets.NEON_API_KEY }}',
        'project-id': '${{ vars.NEON_PROJECT_ID }}',
        'parent-branch-id': '${{ vars.NEON_BRANCH_ID }}',
      });
      // Unique per run, so a re-run never collides with the branch of the first attempt.
      expect(steps[restore]!.with.name).toMatch(/github\.run_id.*github\.run_attempt/);
      expect(steps[restore]!.env).toBeUndefined();
    });
  }
});
