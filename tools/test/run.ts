/**
 * `npm test`'s vitest step: `vitest run` with a watchdog, and one summary over every process.
 *
 *   node --import tsx tools/test/run.ts  the three projects: `unit` + `node` in one vitest process and
 *                                        `workers` in another, side by side (on a 2-core box vitest
 *                                        runs one file at a time per process; the two projects wait
 *                                        on different things: PostgreSQL and child processes, workerd).
 *                                        The Workers suite runs as two shards, one after the other:
 *                                        the stall below came after 11 or more of its 17 files in one
 *                                        pool, never fewer
 *   … run.ts <args…>                     one `vitest run <args…>` (a project, files, -t …)
 *
 * The watchdog: @cloudflare/vitest-pool-workers can stall between two files with no error and no
 * output, for good (cloudflare/workers-sdk#15498, open; seen here three times: in two of the last four full runs and a Workers-only run;
 * its trigger, a console line from another I/O context, is bypassed by vitest.workers.config.ts). A process
 * that reports no progress (no test finished; tools/test/progress-reporter.ts) for
 * VITEST_STALL_MINUTES (default 4: about four times the longest test seen, 63 s on a loaded box; a
 * hook's 300 s bound is a backstop no run comes near) is stopped with its children and
 * the files it had not finished run again, once. What had finished counts as it finished: a
 * failure before the stall still fails the run. The run fails when a planned file never finished.
 *
 * The summary: the slowest files (to keep CI well under 30 minutes) and
 * `vitest: N passed, M failed, K skipped`, the line CI reads.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, constants as osConstants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const STALL_MS = Number(process.env.VITEST_STALL_MINUTES ?? 4) * 60_000;
if (!(STALL_MS >= 5_000)) throw new Error(`VITEST_STALL_MINUTES=${process.env.VITEST_STALL_MINUTES}: minutes, at least 5 s' worth`);
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const REPORTER = join(ROOT, 'tools/test/progress-reporter.ts');
const dir = mkdtempSync(join(tmpdir(), 'vitest-progress-'));

const userArgs = process.argv.slice(2);
// `retry`: only a phase whose arguments are project flags can be narrowed to the files left.
// `lane`: phases of one lane run one after the other, lanes side by side (default: a lane each).
// VITEST_PHASES (JSON [{ name, args, lane? }]) replaces the phases below: for this tool's own test.
const phases: Phase[] = userArgs.length > 0 ? [{ name: 'vitest', args: userArgs, retry: false }] : process.env.VITEST_PHASES
  ? (JSON.parse(process.env.VITEST_PHASES) as Array<Omit<Phase, 'retry'>>).map((p) => ({ ...p, retry: true }))
  : [
    // vitest's default is one worker per core but one; a 2-core box would run one file at a time,
    // while the Node suite's files mostly wait (PostgreSQL, child processes): two at least.
    // Its own config: vitest.config.ts would load vitest.workers.config.ts too, which recreates the
    // database the other process's Workers suite runs on as it loads (vitest.node.config.ts).
    { name: 'unit+node', args: ['--config', 'vitest.node.config.ts', `--maxWorkers=${Math.max(2, availableParallelism() - 1)}`], retry: true },
    // Two processes of about 8 files each, one after the other (the stall above).
    { name: 'workers 1/2', lane: 'workers', args: ['--project', 'workers', '--shard=1/2'], retry: true },
    { name: 'workers 2/2', lane: 'workers', args: ['--project', 'workers', '--shard=2/2'], retry: true },
  ];

// The children have process groups of their own (below): pass Ctrl-C and kill on to them, and
// leave no progress files behind.
const children = new Set<number>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const pid of children) killGroup(pid, signal);
    rmSync(dir, { recursive: true, force: true });
    process.exit(128 + osConstants.signals[signal]);
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

interface Phase {
  name: string;
  args: string[];
  retry: boolean;
  /** Phases of one lane run in order; lanes run side by side. Default: the phase's name. */
  lane?: string;
}
/** tools/test/progress-reporter.ts's lines. */
type ProgressEvent =
  | { event: 'planned'; files: Array<{ project: string; file: string }> }
  | { event: 'tick' }
  | { event: 'errors'; count: number }
  | { event: 'file'; project: string; file: string; state: string; durationMs: number; passed: number; failed: number; skipped: number };
type FileEvent = Extract<ProgressEvent, { event: 'file' }>;

/** The JSON lines a vitest process has written so far (a line being written may be cut: skipped). */
function events(file: string): ProgressEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as ProgressEvent] : [];
    } catch {
      return [];
    }
  });
}

/** One `vitest run`; resolves with its exit code, or 'stalled' after killing it. */
function vitest(args: string[], progress: string): Promise<number | 'stalled'> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [VITEST, 'run', ...args, '--reporter=default', `--reporter=${REPORTER}`], {
      cwd: ROOT,
      stdio: 'inherit',
      // Its own process group, so a stalled run is killed with the workerd and helpers it started.
      detached: true,
      env: { ...process.env, VITEST_PROGRESS_FILE: progress, VITEST_PARENT_PID: String(process.pid) }, // the reporter exits with this process
    });
    const pid = child.pid!;
    children.add(pid);
    let seen = -1;
    let stalled = false;
    let lastProgress = Date.now();
    const watch = setInterval(() => {
      const size = existsSync(progress) ? statSync(progress).size : 0;
      if (size !== seen) {
        seen = size;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > STALL_MS) {
        clearInterval(watch);
        stalled = true;
        console.log(`\n[run.ts] no test finished for ${STALL_MS / 60_000} min: stalled (cloudflare/workers-sdk#15498); stopping vitest ${args.join(' ')}`);
        // SIGTERM first, so what traps it can clean up (a private PostgreSQL cluster's pg_ctl); then SIGKILL.
        killGroup(pid, 'SIGTERM');
        const finish = () => {
          clearTimeout(grace);
          killGroup(pid, 'SIGKILL'); // what is left of the group
          children.delete(pid);
          done('stalled');
        };
        const grace = setTimeout(finish, 10_000);
        child.once('exit', finish);
      }
    }, Math.min(5_000, STALL_MS / 4));
    child.on('exit', (code, signal) => {
      if (stalled) return; // answered above
      clearInterval(watch);
      children.delete(pid);
      done(code ?? (signal ? 128 + osConstants.signals[signal] : 1));
    });
  });
}

interface PhaseResult {
  planned: Map<string, string>; // file → project
  finished: Map<string, FileEvent>;
  /** Errors vitest held outside any test (unhandled rejections, …), over all attempts. */
  errors: number;
  /** Each attempt's end: its exit code, or 'stalled'. */
  ends: Array<number | 'stalled'>;
  ok: boolean;
}

/** Runs a phase, re-running once what a stalled attempt left (all of it if it stalled before planning). */
async function runPhase(phase: Phase, index: number): Promise<PhaseResult> {
  const result: PhaseResult = { planned: new Map(), finished: new Map(), errors: 0, ends: [], ok: false };
  let args = phase.args;
  // On a re-run, the files it was run for: a file that had finished keeps its first result (a
  // failure before the stall stays a failure even if the re-run's filter matches it again).
  let only: Set<string> | undefined;
  for (let attempt = 1; ; attempt++) {
    const progress = join(dir, `phase-${index}-${attempt}.jsonl`); // by index: names may repeat
    const end = await vitest(args, progress);
    result.ends.push(end);
    let errors = 0;
    for (const e of events(progress)) {
      if (e.event === 'planned' && result.planned.size === 0) for (const f of e.files) result.planned.set(f.file, f.project);
      if (e.event === 'file' && (!only || only.has(e.file))) result.finished.set(e.file, e);
      if (e.event === 'errors') errors = Math.max(errors, e.count);
    }
    result.errors += errors;
    if (end !== 'stalled') return { ...result, ok: end === 0 && result.errors === 0 };
    const left = [...result.planned.keys()].filter((f) => !result.finished.has(f));
    if (!phase.retry || attempt === 2 || (result.planned.size > 0 && left.length === 0)) return result;
    if (result.planned.size === 0) {
      console.log(`[run.ts] it stalled before it started a file: running it again`);
    } else {
      console.log(`[run.ts] running again the ${left.length} file(s) it had not finished: ${left.join(' ')}`);
      // The same projects, narrowed to those files (positional arguments filter by path; a shard
      // of those would drop some of them).
      args = [...phase.args.filter((a) => !a.startsWith('--shard')), ...left];
      only = new Set(left);
    }
  }
}

/** Each lane's phases in order, the lanes side by side; results in the order of `phases`. */
async function runLanes(): Promise<PhaseResult[]> {
  const results: PhaseResult[] = new Array(phases.length);
  const lanes = new Map<string, number[]>();
  phases.forEach((p, i) => lanes.set(p.lane ?? p.name, [...(lanes.get(p.lane ?? p.name) ?? []), i]));
  await Promise.all(
    [...lanes.values()].map(async (indexes) => {
      for (const i of indexes) results[i] = await runPhase(phases[i]!, i);
    }),
  );
  return results;
}

const results = await runLanes();
const files = results.flatMap((r) => [...r.finished.values()]);
const missing = results.flatMap((r) => [...r.planned.keys()].filter((f) => !r.finished.has(f)));
const total = { passed: 0, failed: 0, skipped: 0 };
for (const f of files) for (const k of ['passed', 'failed', 'skipped'] as const) total[k] += f[k];
const failedFiles = files.filter((f) => f.state === 'failed' || f.failed > 0);

const slowest = [...files].sort((a, b) => b.durationMs - a.durationMs).slice(0, 12);
const summary = [
  `slowest test files (s): ${slowest.map((f) => `${f.file} ${(f.durationMs / 1000).toFixed(0)}`).join(', ')}`,
  ...(failedFiles.length ? [`failed files: ${failedFiles.map((f) => f.file).join(', ')}`] : []),
  ...(missing.length ? [`files that never finished: ${missing.join(', ')}`] : []),
  ...results.flatMap((r, i) => (r.errors ? [`${phases[i]!.name}: ${r.errors} error(s) outside any test (unhandled rejections, …): see vitest's output above`] : [])),
  ...results.flatMap((r, i) => (r.ok ? [] : [`${phases[i]!.name}: vitest ended ${r.ends.map((e) => (e === 'stalled' ? 'stalled' : `with exit code ${e}`)).join(', then ')}`])),
  `vitest: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped (${files.length} files)`,
];
console.log(`\n${summary.join('\n')}`);
// .ci/run prints it again as its closing lines.
if (process.env.VITEST_SUMMARY_FILE) writeFileSync(process.env.VITEST_SUMMARY_FILE, `${summary.join('\n')}\n`);
const ok = results.every((r) => r.ok) && failedFiles.length === 0 && missing.length === 0 && total.passed + total.failed > 0;
if (total.passed + total.failed === 0) console.error('vitest ran no test');
rmSync(dir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
