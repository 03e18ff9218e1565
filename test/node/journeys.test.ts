import { afterAll, beforeAll } from 'vitest';
import { authJourney } from '../journeys/auth.js';
import { catalogJourney } from '../journeys/catalog.js';
import { ordersJourney } from '../journeys/orders.js';
import { paymentsJourney } from '../journeys/payments.js';
import { paymentsMinimumsJourney } from '../journeys/payments-minimums.js';
import { paymentsRefundsJourney } from '../journeys/payments-refunds.js';
import { paymentsRetriesJourney } from '../journeys/payments-retries.js';
import { platformJourney } from '../journeys/platform.js';
import { rolesJourney } from '../journeys/roles.js';
import { schedulingJourney } from '../journeys/scheduling.js';
import { staffJourney } from '../journeys/staff.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
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
paymentsRefundsJourney(() => t);
paymentsRetriesJourney(() => t);
