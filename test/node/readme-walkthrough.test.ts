/**
 * The README's Quickstart must work as written. Its curl walkthrough (the block between the
 * `readme-walkthrough` markers) is run with bash against a real `npm start` on a fresh embedded
 * database, every curl failing on an HTTP error, and must end with the order delivered and
 * paid. The credentials and postcodes the README prints must be the ones the demo seed makes,
 * and the seed must be idempotent, roll its slots forward, and stay out of production.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadArgon2idKernel } from '../../src/auth/argon2-node.mjs';
import { createPasswordHasher } from '../../src/auth/password.js';
import { loadNodeServerConfig } from '../../src/platform/node/config.js';
import { DEMO_ACCOUNTS, DEMO_DAYS, DEMO_ZONE_ID, demoZoneFor, seedDemo } from '../../src/db/demo-seed.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { z } from 'zod';
import { sql } from 'drizzle-orm';
import { startServer, stopServer } from '../support/server-process.js';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const API_LINE = 'API=http://localhost:3000';

/** The walkthrough's shell code: the one ```bash block between the markers. */
function walkthrough(): string {
  const m = /<!-- readme-walkthrough: begin -->\n```bash\n([\s\S]*?)\n```\n<!-- readme-walkthrough: end -->/.exec(README);
  if (!m) throw new Error('README.md has no ```bash block between <!-- readme-walkthrough: begin/end --> markers');
  return m[1]!;
}

/** Runs `script` with bash; every curl gets --fail-with-body, so an HTTP error stops the script (set -e, pipefail). */
function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', `set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n${script}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** The last pretty-printed JSON object of jq's output (it starts with a line that is only `{`). */
function lastJson(stdout: string): any {
  const lines = stdout.trimEnd().split('\n');
  const start = lines.lastIndexOf('{');
  return JSON.parse(lines.slice(start).join('\n'));
}

const tmp = mkdtempSync(join(tmpdir(), 'laundry-readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('README quickstart', () => {
  it('prints the demo accounts and postcodes the README documents', () => {
    for (const a of DEMO_ACCOUNTS) expect(README).toContain(`| ${a.role} | \`${a.email}\` | \`${a.password}\` |`);
    const zone = demoZoneFor('USD');
    for (const postcode of zone.examplePostcodes) expect(README).toContain(`**${postcode}**`);
    expect(walkthrough()).toContain(`postcode=${zone.examplePostcodes[0]}`);
  });

  it('runs the curl walkthrough against a fresh `npm start`: the order is delivered and paid, and a restart doubles nothing', { timeout: 240_000 }, async () => {
    const env = { PGLITE_DIR: join(tmp, 'pglite') };
    const server = await startServer(env);
    let adminToken: string;
    let firstSlots: number;
    try {
      expect(server.output()).toMatch(/Demo data .*"Demo: San Francisco" serves 941/);
      for (const a of DEMO_ACCOUNTS) expect(server.output()).toContain(`${a.email}  password: ${a.password}`);

      const script = walkthrough();
      expect(script.split('\n').filter((l) => l === API_LINE), `the block sets ${API_LINE} once`).toHaveLength(1);
      const run = await bash(script.replace(API_LINE, `API=${server.url}`));
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      const final = lastJson(run.stdout);
      // 7.25 kg × 250 = 1813 (rounded half up) + 499 delivery
      expect(final).toEqual({
        status: 'delivered',
        total: 2312,
        balance: { due: 2312, authorised: 0, paid: 2312, refunded: 0, refundedToCredit: 0, waived: 0, outstanding: 0 },
        timeline: ['confirmed', 'picked_up', 'processing', 'weighed', 'ready', 'out_for_delivery', 'payment', 'delivered'],
      });

      const login = await fetch(`${server.url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: DEMO_ACCOUNTS.find((a) => a.role === 'admin')!.email, password: DEMO_ACCOUNTS.find((a) => a.role === 'admin')!.password }),
      });
      expect(login.status).toBe(200);
      adminToken = ((await login.json()) as { accessToken: string }).accessToken;
      const slots = await fetch(`${server.url}/v1/admin/zones/${DEMO_ZONE_ID}/slots`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(slots.status).toBe(200);
      firstSlots = ((await slots.json()) as { data: unknown[] }).data.length;
      expect(firstSlots).toBeGreaterThanOrEqual(4 * (DEMO_DAYS - 1));
    } finally {
      expect(await stopServer(server)).toBe(0);
    }

    const again = await startServer(env);
    try {
      expect(again.output()).toMatch(/slots \S+ to \S+ \(0 new\)/);
      const zones = await fetch(`${again.url}/v1/admin/zones`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(((await zones.json()) as { data: Array<{ id: string }> }).data.map((z) => z.id)).toEqual([DEMO_ZONE_ID]);
      const slots = await fetch(`${again.url}/v1/admin/zones/${DEMO_ZONE_ID}/slots`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(((await slots.json()) as { data: unknown[] }).data).toHaveLength(firstSlots);
    } finally {
      expect(await stopServer(again)).toBe(0);
    }
  });
});

describe('demo seed', () => {
  const Count = z.object({ n: z.number() });

  it('is idempotent, keeps slots 14 days ahead as days pass, and hashes the passwords with Argon2id', { timeout: 120_000 }, async () => {
    const database = await createPgliteDatabase('memory://');
    await migrateDatabase(database);
    const passwords = createPasswordHasher(loadArgon2idKernel);
    let now = new Date('2026-06-10T15:00:00Z'); // 08:00 in San Francisco (PDT)
    const deps = { database, clock: { now: () => now }, passwords };
    try {
      const first = await seedDemo(deps, { currency: 'USD', appEnv: 'development' });
      expect(first.zone).toMatchObject({ id: DEMO_ZONE_ID, created: true, postcodePrefixes: ['941'] });
      expect(first.slots).toEqual({ from: '2026-06-10', to: '2026-06-23', created: 4 * DEMO_DAYS });
      expect(first.accounts.map((a) => [a.email, a.role, a.created])).toEqual(DEMO_ACCOUNTS.map((a) => [a.email, a.role, true]));

      const again = await seedDemo(deps, { currency: 'USD', appEnv: 'development' });
      expect(again.zone.created).toBe(false);
      expect(again.slots.created).toBe(0);
      expect(again.accounts.every((a) => !a.created)).toBe(true);

      now = new Date('2026-06-13T15:00:00Z');
      const later = await seedDemo(deps, { currency: 'USD', appEnv: 'development' });
      expect(later.slots).toEqual({ from: '2026-06-13', to: '2026-06-26', created: 4 * 3 });

      const [zones] = await database.rows(Count, sql`SELECT count(*)::int AS n FROM zones`);
      const [slots] = await database.rows(Count, sql`SELECT count(*)::int AS n FROM slots WHERE zone_id = ${DEMO_ZONE_ID}::uuid`);
      const [staff] = await database.rows(Count, sql`SELECT count(*)::int AS n FROM users WHERE role IN ('staff', 'admin')`);
      expect([zones!.n, slots!.n, staff!.n]).toEqual([1, 4 * (DEMO_DAYS + 3), 2]);
      const rows = await database.rows(z.object({ email: z.string(), password_hash: z.string() }), sql`SELECT email, password_hash FROM users ORDER BY email`);
      for (const a of DEMO_ACCOUNTS) {
        const hash = rows.find((r) => r.email === a.email)!.password_hash;
        expect(hash).toMatch(/^\$argon2id\$/);
        expect(await passwords.verify(a.password, hash)).toBe(true);
      }
    } finally {
      await database.close();
    }
  });

  it('never runs in production', async () => {
    const database = await createPgliteDatabase('memory://');
    try {
      await expect(
        seedDemo({ database, clock: { now: () => new Date() }, passwords: createPasswordHasher(loadArgon2idKernel) }, { currency: 'USD', appEnv: 'production' }),
      ).rejects.toThrow(/APP_ENV=production/);
    } finally {
      await database.close();
    }
    expect(() => loadNodeServerConfig({ APP_ENV: 'production', SEED_DEMO: '1' })).toThrow(/SEED_DEMO: must not be 1 when APP_ENV=production/);
    expect(loadNodeServerConfig({ APP_ENV: 'production', METRICS_TOKEN: 'metrics-token-0123456789abcdef-0123' }).seedDemo).toBe('never');
    expect(loadNodeServerConfig({ APP_ENV: 'development' }).seedDemo).toBe('embedded');
    expect(loadNodeServerConfig({ SEED_DEMO: '1' }).seedDemo).toBe('always');
    expect(loadNodeServerConfig({ SEED_DEMO: '0' }).seedDemo).toBe('never');
  });
});
