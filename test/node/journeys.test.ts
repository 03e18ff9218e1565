import { afterAll, beforeAll } from 'vitest';
import { authJourney } from '../journeys/auth.js';
import { catalogJourney } from '../journeys/catalog.js';
import { ordersJourney } from '../journeys/orders.js';
import { paymentsJourney } from '../journeys/payments.js';
import { paymentsBalanceJourney } from '../journeys/payments-balance.js';
import { paymentsMinimumsJourney } from '../journeys/payments-minimums.js';
import { platformJourney } from '../journeys/platform.js';
import { rolesJourney } from '../journeys/roles.js';
import { schedulingJourney } from '../journeys/scheduling.js';
import { staffJourney } from '../journeys/staff.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
/** Apps with another CURRENCY on the same database (closed with t, which owns it). */
const inCurrency = new Map<string, TestApp>();
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  for (const app of inCurrency.values()) await app.deps.passwords.close?.();
  await t.close();
});

authJourney(() => t);
catalogJourney(() => t);
platformJourney(() => t);
rolesJourney(() => t);
ordersJourney(() => t);
schedulingJourney(() => t);
staffJourney(() => t);
paymentsJourney(() => t);
paymentsMinimumsJourney(() => t);
paymentsBalanceJourney(
  () => t,
  async (code) => {
    const app = inCurrency.get(code) ?? (await createTestApp({ database: t.deps.database, env: { CURRENCY: code } }));
    inCurrency.set(code, app);
    return app;
  },
);
