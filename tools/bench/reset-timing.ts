/**
 * Password reset timing (issue 18: POST /v1/auth/password-reset "takes the same time either
 * way"), measured, not asserted in a test: wall-clock ratios are noisy on shared CI machines, so
 * the bench reports the ratio and the lead's report (tools/bench/report.ts) shows it. Not wired
 * `npm run bench -- --only=reset` runs it on its own Node server (resetSection).
 *
 * Method: against a running server, `samples` requests for known addresses (accounts made for
 * the bench, one address per request so the per-address throttle never answers) interleaved with
 * `samples` for unknown ones (fresh random addresses), one at a time, known and unknown
 * alternating so drift hits both alike. From loopback the per-client-address throttle does not
 * apply. Every answer must be 202. Result: p50 of each, and known ÷ unknown (≈ 1 is the goal: the
 * operation is one statement either way, with the same token work before it).
 */
import { sqlRows } from './db.js';
import { freePort, percentile, startChild, stopChild, waitForHttp, type BenchOptions } from './lib.js';
import { dockerNodeOptions, serverEnv } from './node.js';

export interface ResetTiming {
  samples: number;
  knownP50Ms: number;
  unknownP50Ms: number;
  /** knownP50Ms ÷ unknownP50Ms. */
  ratio: number;
}

/** Accounts for the known side: inserted directly (their password is never used). */
async function knownAddresses(databaseUrl: string, n: number): Promise<string[]> {
  const emails = Array.from({ length: n }, (_, i) => `reset-timing-${i}-${crypto.randomUUID().slice(0, 8)}@bench.example`);
  await sqlRows(databaseUrl, `INSERT INTO users (email, password_hash, role) SELECT unnest($1::text[]), '!bench-no-password', 'customer'`, [emails]);
  return emails;
}

async function timedReset(base: string, email: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/v1/auth/password-reset`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 202) throw new Error(`password reset for ${email}: ${res.status}`);
  return ms;
}

/** Measures known vs unknown reset requests against the server at `base` (its database at `databaseUrl`). */
export async function resetTimingSection(databaseUrl: string, base: string, samples = 200): Promise<ResetTiming> {
  const known = await knownAddresses(databaseUrl, samples + 5);
  const unknown = () => `reset-timing-nobody-${crypto.randomUUID()}@bench.example`;
  // Warm both paths (connections, JIT) before measuring.
  for (let i = 0; i < 5; i++) {
    await timedReset(base, known[samples + i]!);
    await timedReset(base, unknown());
  }
  const k: number[] = [];
  const u: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i % 2 === 0) {
      k.push(await timedReset(base, known[i]!));
      u.push(await timedReset(base, unknown()));
    } else {
      u.push(await timedReset(base, unknown()));
      k.push(await timedReset(base, known[i]!));
    }
  }
  const knownP50Ms = percentile(k.sort((a, b) => a - b), 50);
  const unknownP50Ms = percentile(u.sort((a, b) => a - b), 50);
  return { samples, knownP50Ms, unknownP50Ms, ratio: knownP50Ms / unknownP50Ms };
}

/** The bench section: the built Node server on its own port, `resetTimingSection` against it (fewer samples with --quick). */
export async function resetSection(o: BenchOptions, databaseUrl: string, serverJs: string): Promise<ResetTiming> {
  const port = await freePort();
  const server = startChild('node', [serverJs], { ...serverEnv(databaseUrl, port), NODE_OPTIONS: dockerNodeOptions() });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, 30_000, server);
    return await resetTimingSection(databaseUrl, base, o.quick ? 40 : 200);
  } finally {
    await stopChild(server);
  }
}
