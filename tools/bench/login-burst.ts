/**
 * Login-burst section of `npm run bench` (`--only=loginburst`): does a burst of logins stall the
 * Node event loop? The compiled server (as the Dockerfile runs it) is probed with GET /healthz,
 * one request at a time, first idle and then while 20 clients log in back to back (Argon2id at
 * the OWASP parameters). Budget: the probe's p99 during the burst ≤ 3× its idle p99 (issue 11:
 * Kubernetes probes allow 2–3 s, and with hashing on the main thread one probe waited most of
 * a 40-login burst).
 */
import { createPasswordHasher } from '../../src/auth/password.js';
import { loadArgon2idKernel } from '../../src/auth/argon2-node.mjs';
import { sqlRows } from './db.js';
import { closedLoop, freePort, log, startChild, stopChild, waitForHttp, type BenchOptions } from './lib.js';
import { dockerNodeOptions, serverEnv } from './node.js';

export interface LoginBurst {
  logins: number;
  idleP99: number;
  burstP99: number;
  burstMax: number;
  /** Logins answered during the burst, and how many of them were not 200. */
  loginsDone: number;
  loginFailures: number;
  probes: number;
}

export const BURST_LOGINS = 20;

export async function loginBurstSection(o: BenchOptions, databaseUrl: string, serverJs: string): Promise<LoginBurst> {
  // One user per client, so no client's logins queue behind another's per-email throttle row.
  const password = 'bench burst password';
  const phc = await createPasswordHasher(loadArgon2idKernel).hash(password);
  const emails = Array.from({ length: BURST_LOGINS }, (_, i) => `burst-${i}-${crypto.randomUUID().slice(0, 8)}@bench.example`);
  await sqlRows(databaseUrl, `INSERT INTO users (email, password_hash, role) SELECT unnest($1::text[]), $2, 'customer'`, [emails, phc]);

  const port = await freePort();
  const server = startChild('node', [serverJs], { ...serverEnv(databaseUrl, port), NODE_OPTIONS: dockerNodeOptions() });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`, 30_000, server);
    const probe = async () => {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`/healthz ${res.status}`);
    };
    const seconds = o.quick ? 3 : 8;
    // Warm both paths (the hashing threads start with the first login).
    await closedLoop(probe, 1, 1);
    await login(base, emails[0]!, password);
    log(`loginburst: /healthz idle for ${seconds} s`);
    const idle = await closedLoop(probe, seconds, 1);
    log(`loginburst: /healthz during ${BURST_LOGINS} concurrent logins for ${seconds} s`);
    let loginsDone = 0;
    let loginFailures = 0;
    let next = 0;
    const burst = closedLoop(
      async () => {
        const status = await login(base, emails[next++ % emails.length]!, password);
        loginsDone++;
        if (status !== 200) loginFailures++;
      },
      seconds,
      BURST_LOGINS,
    );
    const latencies: number[] = [];
    const probing = (async () => {
      const deadline = performance.now() + seconds * 1000;
      while (performance.now() < deadline) {
        const t = performance.now();
        await probe();
        latencies.push(performance.now() - t);
      }
    })();
    await Promise.all([burst, probing]);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.max(0, Math.ceil(0.99 * latencies.length) - 1)] ?? NaN;
    return { logins: BURST_LOGINS, idleP99: idle.p99, burstP99: p99, burstMax: latencies.at(-1) ?? NaN, loginsDone, loginFailures, probes: latencies.length };
  } finally {
    await stopChild(server);
  }
}

async function login(base: string, email: string, password: string): Promise<number> {
  const res = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  await res.arrayBuffer();
  return res.status;
}
