import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * tools/test/run.ts, `npm test`'s vitest step, against a stall like cloudflare/workers-sdk#15498:
 * a file that never finishes, and says nothing. The watchdog must kill the run, run again only the
 * files left, and still fail the run for a failure that happened before the stall.
 */
const ROOT = resolve(import.meta.dirname, '../..');

function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-mjs-'));
  writeFileSync(join(dir, 'vitest.config.mjs'), `export default { test: { include: ['*.test.mjs'], fileParallelism: false, testTimeout: 600000, hookTimeout: 600000 } };\n`);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), `import { existsSync, writeFileSync } from 'node:fs';\nimport { it, expect } from 'vitest';\n${body}\n`);
  return dir;
}

/** Hangs (silently, for good) the first time it runs, passes after. */
const stallsOnce = (dir: string) => `
const marker = ${JSON.stringify(join(dir, 'ran-once'))};
it('hangs the first time', async () => {
  if (!existsSync(marker)) { writeFileSync(marker, ''); await new Promise(() => {}); }
  expect(1).toBe(1);
});`;

function run(dir: string, phases?: Array<{ name: string; args: string[]; lane?: string }>) {
  // Not the outer run's summary file (CI's, when this runs under .ci/run).
  const { VITEST_SUMMARY_FILE: _outer, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/test/run.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...env,
      VITEST_STALL_MINUTES: String(8 / 60), // 8 s without a finished test
      VITEST_PHASES: JSON.stringify(phases ?? [{ name: 'fixture', args: ['--config', join(dir, 'vitest.config.mjs'), '--root', dir] }]),
    },
    timeout: 300_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('tools/test/run.ts, the watchdog over vitest', () => {
  it('kills a stalled run, runs again only the files it had not finished, and passes when they pass', () => {
    const dir = fixture({ 'a.test.mjs': `it('a', () => expect(1).toBe(1));`, 'b.test.mjs': '' });
    writeFileSync(join(dir, 'b.test.mjs'), `import { existsSync, writeFileSync } from 'node:fs';\nimport { it, expect } from 'vitest';\n${stallsOnce(dir)}\n`);
    const r = run(dir);
    expect(r.out).toContain('stalled');
    expect(r.out).toMatch(/running again the [12] file\(s\) it had not finished: .*b\.test\.mjs/);
    expect(r.out).toContain('vitest: 2 passed, 0 failed, 0 skipped (2 files)');
    expect(r.status).toBe(0);
  }, 300_000);

  it('runs the phases of one lane one after the other, and counts them all (the Workers suite\'s two shards)', () => {
    // b passes only if a had finished before b started: with the two side by side, a is still asleep.
    const dir = mkdtempSync(join(tmpdir(), 'run-lane-'));
    const marker = JSON.stringify(join(dir, 'a-finished'));
    const fx = fixture({
      'a.test.mjs': `it('a', async () => { await new Promise((r) => setTimeout(r, 3000)); writeFileSync(${marker}, ''); expect(1).toBe(1); });`,
      'b.test.mjs': `it('b runs after a', () => expect(existsSync(${marker})).toBe(true));`,
    });
    const args = ['--config', join(fx, 'vitest.config.mjs'), '--root', fx];
    const r = run(fx, [
      { name: 'one/2', lane: 'lane', args: [...args, 'a.test.mjs'] },
      { name: 'two/2', lane: 'lane', args: [...args, 'b.test.mjs'] },
    ]);
    expect(r.out).toContain('vitest: 2 passed, 0 failed, 0 skipped (2 files)');
    expect(r.status).toBe(0);
  }, 300_000);

  it('counts a sharded phase by the files of its own shard (vitest plans every file, then shards)', () => {
    const dir = fixture({
      'a.test.mjs': `it('a', () => expect(1).toBe(1));`,
      'b.test.mjs': `it('b', () => expect(1).toBe(1));`,
      'c.test.mjs': `it('c', () => expect(1).toBe(1));`,
    });
    const args = ['--config', join(dir, 'vitest.config.mjs'), '--root', dir];
    const r = run(dir, [
      { name: 'shard 1/2', lane: 'shards', args: [...args, '--shard=1/2'] },
      { name: 'shard 2/2', lane: 'shards', args: [...args, '--shard=2/2'] },
    ]);
    expect(r.out).not.toContain('never finished');
    expect(r.out).toContain('vitest: 3 passed, 0 failed, 0 skipped (3 files)');
    expect(r.status).toBe(0);
  }, 300_000);

  it('takes vitest and everything it started down when it is killed outright (SIGKILL): SIGTERM first, then SIGKILL', async () => {
    const dir = fixture({});
    const pids = join(dir, 'pids');
    const cleaned = join(dir, 'cleaned');
    // Two children a test starts, in vitest's process group: one cleans up on SIGTERM (as a private
    // PostgreSQL cluster's trap does), one ignores SIGTERM and must still go.
    writeFileSync(
      join(dir, 'a.test.mjs'),
      [
        `import { spawn } from 'node:child_process';`,
        `import { writeFileSync } from 'node:fs';`,
        `import { it } from 'vitest';`,
        `it('hangs', async () => {`,
        `  const tidy = spawn('sh', ['-c', 'trap "echo done > ${cleaned}; exit 0" TERM; while :; do sleep 1; done'], { stdio: 'ignore' });`,
        `  const stubborn = spawn('sh', ['-c', 'trap "" TERM; while :; do sleep 1; done'], { stdio: 'ignore' });`,
        `  writeFileSync(${JSON.stringify(pids)}, JSON.stringify([tidy.pid, stubborn.pid]));`,
        `  await new Promise(() => {});`,
        `});`,
      ].join('\n'),
    );
    const { VITEST_SUMMARY_FILE: _outer, ...env } = process.env;
    const runner = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/test/run.ts')], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...env, VITEST_STALL_MINUTES: '10', VITEST_PHASES: JSON.stringify([{ name: 'fixture', args: ['--config', join(dir, 'vitest.config.mjs'), '--root', dir] }]) },
    });
    // A killed process whose parent died too may stay a zombie until something reaps it: dead here.
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
      } catch {
        return false;
      }
      const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      return !/^\d+ \(.*\) Z/.test(stat);
    };
    const waitFor = async (what: () => boolean, seconds: number) => {
      for (let i = 0; i < seconds * 4 && !what(); i++) await new Promise((r) => setTimeout(r, 250));
      return what();
    };
    try {
      expect(await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8') !== '', 120)).toBe(true);
      const [tidy, stubborn] = JSON.parse(readFileSync(pids, 'utf8')) as [number, number];
      expect([alive(tidy), alive(stubborn)]).toEqual([true, true]);
      runner.kill('SIGKILL');
      // The reporter looks every 2 s and SIGKILLs 10 s after its SIGTERM; generous for a loaded box,
      // and the test ends as soon as both are gone.
      expect(await waitFor(() => !alive(tidy) && !alive(stubborn), 90)).toBe(true);
      expect(existsSync(cleaned)).toBe(true);
    } finally {
      runner.kill('SIGKILL');
    }
  }, 300_000);

  it('keeps a failure from before a stall when the re-run matches that file again', () => {
    // a fails the first time it runs and passes after; b stalls the first time. The phase names both
    // files, so the re-run's filter runs a again: its first result (failed) must stand.
    const dir = fixture({});
    const failedOnce = JSON.stringify(join(dir, 'a-ran'));
    writeFileSync(
      join(dir, 'a.test.mjs'),
      // Padded: vitest runs larger files first, and a must run (and fail) before b stalls.
      `import { existsSync, writeFileSync } from 'node:fs';\nimport { it, expect } from 'vitest';\nit('a', () => { const first = !existsSync(${failedOnce}); writeFileSync(${failedOnce}, ''); expect(first).toBe(false); });\n// ${'x'.repeat(2000)}\n`,
    );
    writeFileSync(join(dir, 'b.test.mjs'), `import { existsSync, writeFileSync } from 'node:fs';\nimport { it, expect } from 'vitest';\n${stallsOnce(dir)}\n`);
    const args = ['--config', join(dir, 'vitest.config.mjs'), '--root', dir, 'a.test.mjs', 'b.test.mjs'];
    const r = run(dir, [{ name: 'named files', args }]);
    expect(r.out).toContain('stalled');
    expect(r.out).toMatch(/running again the 1 file\(s\) it had not finished: b\.test\.mjs/);
    expect(r.out).toMatch(/failed files: .*a\.test\.mjs/);
    expect(r.status).toBe(1);
  }, 300_000);

  it('still fails the run for a file that failed before the stall', () => {
    const dir = fixture({ 'a.test.mjs': `it('a fails', () => expect(1).toBe(2));` });
    writeFileSync(join(dir, 'b.test.mjs'), `import { existsSync, writeFileSync } from 'node:fs';\nimport { it, expect } from 'vitest';\n${stallsOnce(dir)}\n`);
    const r = run(dir);
    expect(r.out).toContain('stalled');
    expect(r.out).toMatch(/failed files: .*a\.test\.mjs/);
    expect(r.status).toBe(1);
  }, 300_000);

  it('fails the run for an error outside any test (an unhandled rejection) that happened before the stall', () => {
    const dir = fixture({ 'a.test.mjs': `it('a passes but leaves a rejection behind', () => { void Promise.reject(new Error('left behind')); expect(1).toBe(1); });` });
    writeFileSync(join(dir, 'b.test.mjs'), `import { existsSync, writeFileSync } from 'node:fs';\nimport { it, expect } from 'vitest';\n${stallsOnce(dir)}\n`);
    const r = run(dir);
    expect(r.out).toContain('stalled');
    expect(r.out).toMatch(/error\(s\) outside any test/);
    expect(r.status).toBe(1);
  }, 300_000);
});
