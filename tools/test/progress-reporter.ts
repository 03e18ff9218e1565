import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule, TestSpecification, Vitest } from 'vitest/node';

/**
 * A vitest reporter that appends what happens to `VITEST_PROGRESS_FILE`, one JSON object per line,
 * as it happens (vitest's JSON reporter writes only when the run ends, so a run that stalls and is
 * killed leaves nothing): `planned` (every file of the run, at its start; of its shard with --shard), `tick` (a test finished:
 * the run is alive), `file` (a file finished: project, path from the project's root, state, duration ms, tests passed,
 * failed and skipped), `errors` (vitest holds more errors that belong to no test: an unhandled
 * rejection fails the run though every test passed). tools/test/run.ts reads it to watch for stalls, to re-run only the files a
 * killed run did not finish, and to print one summary over all its vitest processes.
 * Without VITEST_PROGRESS_FILE it does nothing.
 */
export default class ProgressReporter implements Reporter {
  private readonly out = process.env.VITEST_PROGRESS_FILE;
  private vitest: Vitest | undefined;
  private errors = 0;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    this.exitWithParent();
  }

  /**
   * run.ts starts vitest in a process group of its own (so a stalled run can be killed whole), which
   * also means a run.ts killed outright (SIGKILL: nothing it can trap) would leave vitest, its
   * workers and workerd running. With VITEST_PARENT_PID (run.ts sets it), this process checks every
   * 2 s that it is still run.ts's child; once re-parented it ends its group as run.ts ends a stalled
   * one: SIGTERM first, so what traps it can clean up (a private PostgreSQL cluster's pg_ctl), then
   * SIGKILL 10 s later from a small detached process, since this one goes with the SIGTERM.
   */
  private exitWithParent(): void {
    const parent = Number(process.env.VITEST_PARENT_PID);
    if (!this.out || !Number.isInteger(parent) || parent <= 0) return;
    const check = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(check);
      const group = process.pid;
      try {
        process.kill(-group, 0); // a group led by this process exists only if vitest was started as its leader
      } catch {
        process.exit(1); // not a group leader (started otherwise): at least this process goes
      }
      const later = `setTimeout(() => { try { process.kill(-${group}, 'SIGKILL'); } catch {} }, 10000);`;
      spawn(process.execPath, ['-e', later], { detached: true, stdio: 'ignore' }).unref();
      process.kill(-group, 'SIGTERM');
    }, 2_000);
    check.unref();
  }

  /** Writes an `errors` line when vitest's unhandled errors grew (read after each file and at the end). */
  private checkErrors(): void {
    const count = this.vitest?.state.getUnhandledErrors().length ?? 0;
    if (count > this.errors) {
      this.errors = count;
      this.write({ event: 'errors', count });
    }
  }

  private write(event: Record<string, unknown>): void {
    if (this.out) appendFileSync(this.out, `${JSON.stringify(event)}\n`);
  }

  async onTestRunStart(specifications: ReadonlyArray<TestSpecification>): Promise<void> {
    // vitest reports every file before it applies --shard (in its pool), so the files this process
    // will run are those the configured sequencer's own shard() keeps (vitest's algorithm, not a copy).
    const vitest = this.vitest;
    const shard = vitest?.config.shard;
    const planned = vitest && shard ? await new vitest.config.sequence.sequencer(vitest).shard([...specifications]) : specifications;
    this.write({ event: 'planned', files: planned.map((s) => ({ project: s.project.name, file: relative(s.project.config.root, s.moduleId) })) });
  }

  onTestCaseResult(_testCase: TestCase): void {
    this.write({ event: 'tick' });
  }

  onTestModuleEnd(testModule: TestModule): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const test of testModule.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') counts.failed++;
      else counts.skipped++;
    }
    this.write({
      event: 'file',
      project: testModule.project.name,
      file: relative(testModule.project.config.root, testModule.moduleId),
      // A file whose code failed to load or whose hooks failed has no failed test but is failed.
      state: testModule.state(),
      durationMs: Math.round(testModule.diagnostic().duration),
      ...counts,
    });
    this.checkErrors();
  }

  onTestRunEnd(): void {
    this.checkErrors();
  }
}
