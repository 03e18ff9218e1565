/**
 * Shared pieces of `npm run bench`: load generation (autocannon for HTTP, a closed loop for
 * raw SQL), memory sampling from /proc, child processes and ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import autocannon, { type AutocannonRequest } from 'autocannon';

export interface BenchOptions {
  quick: boolean;
  /** Seconds per measured load run. */
  duration: number;
  /** Seconds of unmeasured load before each measured run. */
  warmup: number;
  /** Measured runs per side; the best of them is kept (a shared machine only ever slows a run down). */
  rounds: number;
  /** Concurrent connections (HTTP) or concurrent loops (raw SQL). */
  connections: number;
  /** Sections to run (`--only=node,worker,roundtrips,bundle,startup,argon2,loginburst,edge,growth`); all when empty. */
  only: string[];
  /** Delay the edge section adds to every database request, ms (`--edge-delay-ms=N`, default 20). */
  edgeDelayMs: number;
}

export const SECTIONS = ['node', 'worker', 'roundtrips', 'bundle', 'startup', 'argon2', 'loginburst', 'reset', 'edge', 'growth'] as const;

export function benchOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const only = (argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? '').split(',').filter(Boolean);
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`);
  const delayArg = argv.find((a) => a.startsWith('--edge-delay-ms='))?.slice('--edge-delay-ms='.length);
  const edgeDelayMs = delayArg === undefined ? 20 : Number(delayArg);
  if (!Number.isFinite(edgeDelayMs) || edgeDelayMs < 0 || edgeDelayMs > 1000) throw new Error(`--edge-delay-ms: expected 0–1000 ms, got ${delayArg}`);
  return quick
    ? { quick, only, edgeDelayMs, duration: 2, warmup: 0.5, rounds: 1, connections: 10 }
    : { quick, only, edgeDelayMs, duration: 4, warmup: 1, rounds: 2, connections: 10 };
}

export const log = (...parts: unknown[]) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx answers: a row with any is flagged in the report. */
  failures: number;
  /** Peak VmRSS of the watched process during the run, KiB (when one was watched). */
  peakRssKiB?: number;
  /**
   * CPU the serving process spent per answered request over the load window, µs (user + system,
   * all threads): the watched child's getrusage figures from /proc/<pid>/stat (what
   * process.cpuUsage() reports inside it), or this process's own process.cpuUsage() for an
   * in-process load (the raw-SQL ceiling: the pg client's work).
   */
  cpuUsPerRequest?: number;
}

export interface HttpLoad {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Rewrites each request before it is sent (e.g. a fresh Idempotency-Key). */
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
}

async function autocannonRun(load: HttpLoad, seconds: number, connections: number): Promise<LoadResult> {
  const request: AutocannonRequest = {
    method: load.method ?? 'GET',
    headers: load.headers ?? {},
    ...(load.body !== undefined ? { body: load.body } : {}),
    ...(load.setupRequest ? { setupRequest: load.setupRequest } : {}),
  };
  const r = await autocannon({ url: load.url, connections, duration: seconds, timeout: 10, requests: [request] });
  const completed = r['2xx'] + r.non2xx;
  return {
    rps: completed / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: completed,
    failures: r.errors + r.timeouts + r.non2xx,
  };
}

/** A unit of load: HTTP through autocannon, or any async call in a closed loop. */
export type Load = { http: HttpLoad } | { call: () => Promise<unknown> };

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `concurrency` loops calling `fn` back to back for `seconds`; the raw-SQL ceiling. */
export async function closedLoop(fn: () => Promise<unknown>, seconds: number, concurrency: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        await fn();
        latencies.push(performance.now() - t);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), requests: latencies.length, failures };
}

async function runOnce(load: Load, seconds: number, o: BenchOptions, watchPid?: number): Promise<LoadResult> {
  const rss = watchPid ? new RssSampler(watchPid) : undefined;
  const cpu = watchPid ? new CpuMeter(watchPid) : 'call' in load ? new CpuMeter() : undefined;
  try {
    const r = 'http' in load ? await autocannonRun(load.http, seconds, o.connections) : await closedLoop(load.call, seconds, o.connections);
    const cpuUs = cpu?.elapsedUs();
    return {
      ...r,
      ...(rss ? { peakRssKiB: rss.peakKiB() } : {}),
      ...(cpuUs !== undefined && r.requests > 0 ? { cpuUsPerRequest: cpuUs / r.requests } : {}),
    };
  } finally {
    rss?.stop();
  }
}

const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));

/**
 * Runs the ceiling and the subject alternately (warm-up, then `rounds` measured runs each) so
 * that background noise hits both sides alike, and keeps each side's best run.
 */
export async function versus(
  o: BenchOptions,
  ceiling: { load: Load; pid?: number },
  subject: { load: Load; pid?: number },
): Promise<{ ceiling: LoadResult; subject: LoadResult }> {
  const [c, s] = await alternate(o, [ceiling, subject]);
  return { ceiling: c!, subject: s! };
}

/** `versus` for any number of sides, taken in turn each round: one result per side, in order. */
export async function alternate(o: BenchOptions, sides: Array<{ load: Load; pid?: number }>): Promise<LoadResult[]> {
  const runs: LoadResult[][] = sides.map(() => []);
  for (const side of sides) await runOnce(side.load, o.warmup, o);
  for (let i = 0; i < o.rounds; i++) {
    for (const [k, side] of sides.entries()) runs[k]!.push(await runOnce(side.load, o.duration, o, side.pid));
  }
  const peak = (rs: LoadResult[]) => Math.max(0, ...rs.map((r) => r.peakRssKiB ?? 0)) || undefined;
  const failures = (rs: LoadResult[]) => rs.reduce((n, r) => n + r.failures, 0);
  return runs.map((rs) => ({ ...best(rs), failures: failures(rs), peakRssKiB: peak(rs) }));
}

/** One field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or undefined once the process is gone. */
export function procStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** User + system CPU of a process so far, µs (all its threads), from /proc/<pid>/stat; undefined once it is gone. */
export function procCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** CPU a process spent between construction and elapsedUs(): a child by pid, or this process (process.cpuUsage). */
export class CpuMeter {
  private readonly start: number | undefined;
  constructor(private readonly pid?: number) {
    this.start = this.now();
  }
  private now(): number | undefined {
    if (this.pid === undefined) {
      const u = process.cpuUsage();
      return u.user + u.system;
    }
    return procCpuUs(this.pid);
  }
  elapsedUs(): number | undefined {
    const end = this.now();
    return end === undefined || this.start === undefined ? undefined : end - this.start;
  }
}

/** Samples VmRSS every 100 ms; peakKiB() is the largest sample so far. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }
  private sample() {
    this.peak = Math.max(this.peak, procStatusKiB(this.pid, 'VmRSS') ?? 0);
  }
  peakKiB(): number {
    this.sample();
    return this.peak;
  }
  stop() {
    clearInterval(this.timer);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForHttp(url: string, timeoutMs = 30_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a long-running child (a server). Its output is discarded unless `keepStderr`. */
export function startChild(cmd: string, args: string[], env: Record<string, string>, keepStderr = true): ChildProcess {
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', keepStderr ? 'pipe' : 'ignore'],
  });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code && code !== 0) log(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${tail}`);
  });
  return child;
}

/** SIGTERM to our own child, by its pid; SIGKILL if it is still there after 5 s. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to completion; rejects with its output on failure. */
export function runCommand(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-3000)}`))));
  });
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
