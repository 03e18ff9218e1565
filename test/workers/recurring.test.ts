/**
 * Issue 19 in workerd: the recurring pickups' job (runRecurringJob, the part of the scheduled job
 * the cron runs) twice at once, each run with deps of its own as src/worker.ts builds them (its
 * own neon-http client: every statement its own HTTP request to the local Neon endpoint; the real
 * Stripe SDK over fetch to the stand-in). One order per (schedule, date), and for card schedules
 * one off-session hold per order: the shared journey test/journeys/recurring-card.ts, which Node
 * runs too (test/node/recurring-card.test.ts).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createNeonDatabase } from '../../src/db/neon.js';
import { OrderInputsCache } from '../../src/db/order-inputs.js';
import { systemClock, type Deps } from '../../src/deps.js';
import { webCryptoSha256Hex } from '../../src/domain/idempotency.js';
import { createJsonLogger } from '../../src/logger.js';
import { noopMetrics } from '../../src/metrics/index.js';
import { runRecurringJob } from '../../src/modules/payments/recurring-hold.js';
import { createPayments } from '../../src/payments/stripe.js';
import { recurringCardJourney } from '../journeys/recurring-card.js';
import { ordersOf, recurringWorld } from '../journeys/recurring.js';
import { workerHarness } from './support.js';

/**
 * What the recurring job uses of the deps src/worker.ts builds, built afresh per call, as two
 * isolates running the cron at once would each have: the same config, a database client and a
 * Stripe client of their own.
 */
function edgeDeps(): Deps {
  const strings: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env as Record<string, unknown>)) if (typeof v === 'string') strings[k] = v;
  const config = loadConfig(strings);
  const partial: Pick<Deps, 'config' | 'database' | 'clock' | 'logger' | 'metrics' | 'sha256Hex' | 'orderInputs' | 'payments' | 'runtime'> = {
    config,
    database: createNeonDatabase(config.databaseUrl!, { localEndpoint: config.neonLocalEndpoint }),
    clock: systemClock,
    logger: createJsonLogger({ level: 'warn', base: { runtime: 'workerd' } }),
    metrics: noopMetrics,
    sha256Hex: webCryptoSha256Hex,
    orderInputs: new OrderInputsCache(),
    payments: createPayments(config),
    runtime: 'workerd',
  };
  // The job never serves HTTP: no password hasher, catalog cache, docs or ID tokens.
  return partial as Deps;
}

const runJob = (daysAhead: number) => runRecurringJob(edgeDeps(), daysAhead);

describe('the recurring job in workerd', () => {
  it('two runs at once, round after round: exactly one order per (schedule, date)', async () => {
    const t = workerHarness;
    for (let round = 0; round < 4; round++) {
      const w = await recurringWorld(t);
      const created = await w.create();
      expect(created.status, created.text).toBe(201);
      const reports = await Promise.all([runJob(2), runJob(2)]);
      expect(reports.flatMap((r) => r.failed)).toEqual([]);
      expect(await ordersOf(t, w.who.userId)).toHaveLength(1);
      const [row] = await t.sql<{ n: number; reserved: number }>(
        `SELECT (SELECT count(*) FROM recurring_occurrences WHERE schedule_id = $1 AND status = 'created')::int AS n,
                (SELECT reserved FROM slots WHERE id = $2) AS reserved`, [created.body.id, w.evening]);
      expect(row).toEqual({ n: 1, reserved: 1 });
    }
  });
});

recurringCardJourney(() => workerHarness, runJob);
