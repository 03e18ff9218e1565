/**
 * Recurring card occurrences on the PostgreSQL server: the shared journey (test/journeys/recurring-card.ts)
 * with the job run on the Node app's deps. The same journey runs inside workerd: test/workers/recurring.test.ts.
 */
import { afterAll, beforeAll } from 'vitest';
import { runRecurringJob } from '../../src/modules/payments/recurring-hold.js';
import { recurringCardJourney } from '../journeys/recurring-card.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

recurringCardJourney(() => t, (daysAhead) => runRecurringJob(t.deps, daysAhead));
