/**
 * `npm run bench [-- --quick] [-- --only=node,worker,…]`: measures the API against its own ceilings, side by side, on
 * real PostgreSQL, and prints a markdown report (also written to bench/results.md).
 *
 *   Node     the compiled server (what the Dockerfile runs) vs a bare hello-world and vs the
 *            same SQL sent straight with pg;
 *   Worker   src/worker.ts in workerd (neon-http → local Neon endpoint → PostgreSQL) vs a
 *            hello-world Worker;
 *   round trips per OpenAPI operation, Worker bundle size and startup, Argon2id cost;
 *   /healthz latency during a burst of logins (the event loop while passwords hash);
 *   Edge     the Worker with every database request delayed (--edge-delay-ms, default 20):
 *            latency per endpoint against the floor of its round trips;
 *   Growth   the hot paths at 1% and 100% of a year of a busy shop (own database), with EXPLAIN;
 *   budgets as PASS/FAIL lines.
 *
 * It uses its own database (BENCH_DB_NAME, default laundry_bench) on the server in
 * BENCH_DATABASE_URL / TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
 * recreated at the start and dropped at the end. `--quick` runs every part with short loads,
 * for CI to check that it still works; `--keep-db` leaves the database for inspection.
 */
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BENCH_DB_NAME, benchDbName, createBenchDatabase, dropBenchDatabase, type Fixtures } from './db.js';
import { SECTIONS, benchOptions, log } from './lib.js';
import { loginBurstSection } from './login-burst.js';
import { resetSection } from './reset-timing.js';
import { TMP, buildNodeServer, nodeSection } from './node.js';
import { renderReport, type Results } from './report.js';
import { roundTripSection } from './roundtrips.js';
import { argon2OnNode, bundleSize, startupTime } from './static.js';
import { workerSection } from './worker.js';
import { edgeSection } from './edge.js';
import { growthSection } from './growth.js';

const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const options = benchOptions(process.argv.slice(2));
// Miniflare would otherwise try to download the Request.cf object (there is no network here).
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
process.env.WRANGLER_SEND_METRICS ??= 'false';

const started = Date.now();
const cpu = cpus();
const results: Results = {
  options,
  startedAt: new Date(),
  seconds: 0,
  machine: `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')} at start, Node ${process.version}.`,
  errors: [],
};

/** Runs one section; a failure is recorded in the report and the other sections still run. */
async function section<T>(name: string, work: () => Promise<T>): Promise<T | undefined> {
  const t = Date.now();
  log(`${name}…`);
  try {
    const value = await work();
    log(`${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return value;
  } catch (e) {
    const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log(`${name} FAILED: ${error}`);
    results.errors.push({ section: name, error: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
}

async function main(): Promise<void> {
  mkdirSync(TMP, { recursive: true });
  log(`mode ${options.quick ? 'quick' : 'full'}; database ${serverUrl.replace(/\/\/[^@]*@/, '//…@')}`);
  const databaseUrl = await createBenchDatabase(serverUrl);
  try {
    const wants = (s: (typeof SECTIONS)[number]) => options.only.length === 0 || options.only.includes(s);
    const serverJs = wants('node') || wants('worker') || wants('loginburst') || wants('reset') ? await section('build (tsc -p tsconfig.build.json)', buildNodeServer) : undefined;
    if (serverJs && (wants('node') || wants('worker'))) results.node = await section('Node under load', () => nodeSection(options, databaseUrl, serverJs));
    const fixtures: Fixtures | undefined = results.node?.fixtures;
    if (wants('worker')) {
      if (fixtures) results.worker = await section('Worker under load', () => workerSection(options, databaseUrl, fixtures));
      else results.errors.push({ section: 'Worker under load', error: 'skipped: needs the fixtures the Node section creates' });
    }
    // The edge section compares its counts with the round-trip table, so it runs that too.
    if (wants('roundtrips') || wants('edge')) results.roundTrips = await section('round trips per endpoint', () => roundTripSection(databaseUrl));
    if (wants('bundle')) results.bundle = await section('Worker bundle', () => bundleSize('bundle'));
    if (wants('startup')) results.startup = await section('Worker startup', () => startupTime(options.quick ? 3 : 5));
    // On a database of its own: after the load sections the shared one holds thousands of orders in
    // a few slots and their unsent notifications, which the Worker's queue consumer then works
    // through beside the measured requests (cancel and the staff queue read 10-11 ms of Worker time
    // in full runs against 6-8 ms alone, 1 December 2026). Its figures must not depend on which
    // sections ran before; the growth section measures size.
    if (wants('edge')) {
      results.edge = await section('Worker at edge latency', async () => {
        const edgeDb = benchDbName(`${BENCH_DB_NAME}_edge`); // in the section: a name too long fails it alone
        try {
          return await edgeSection(options, await createBenchDatabase(serverUrl, edgeDb));
        } finally {
          if (!process.argv.includes('--keep-db')) await dropBenchDatabase(serverUrl, edgeDb).catch((e: unknown) => log(`dropping ${edgeDb} failed: ${String(e)}`));
        }
      });
    }
    if (serverJs && wants('loginburst')) results.loginBurst = await section('Node during a login burst', () => loginBurstSection(options, databaseUrl, serverJs));
    if (serverJs && wants('reset')) results.resetTiming = await section('Password reset, known vs unknown address', () => resetSection(options, databaseUrl, serverJs));
    if (wants('growth')) results.growth = await section('Costs as data grows', () => growthSection(options, serverUrl, process.argv.includes('--keep-db')));
    if (wants('argon2')) results.argon2Node = await section('Argon2id on Node', () => argon2OnNode(options.quick ? 3 : 7));
  } finally {
    if (!process.argv.includes('--keep-db')) await dropBenchDatabase(serverUrl).catch((e: unknown) => log(`dropping the bench database failed: ${String(e)}`));
  }
  results.seconds = (Date.now() - started) / 1000;
  const report = renderReport(results);
  console.log(report);
  // A partial (--only) or quick run prints its report but leaves the full one alone.
  if (options.only.length === 0 && !options.quick) {
    mkdirSync(resolve('bench'), { recursive: true });
    writeFileSync(resolve('bench/results.md'), report);
    log(`wrote bench/results.md in ${results.seconds.toFixed(0)} s`);
  }
}

main().then(
  // Handles the pg pools, wrangler and stand-ins may leave behind should not keep the process up.
  () => process.exit(results.errors.length > 0 ? 1 : 0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
