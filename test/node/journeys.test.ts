import { afterAll, beforeAll } from 'vitest';
import { authJourney } from '../journeys/auth.js';
import { sessionsJourney } from '../journeys/sessions.js';
import { endedSessionsJourney } from '../journeys/ended-sessions.js';
import { erasureJourney } from '../journeys/erasure.js';
import { recoveryJourney } from '../journeys/recovery.js';
import { catalogJourney } from '../journeys/catalog.js';
import { ordersJourney } from '../journeys/orders.js';
import { notificationsJourney } from '../journeys/notifications.js';
import { orderInputsJourney } from '../journeys/order-inputs.js';
import { paymentsJourney } from '../journeys/payments.js';
import { paymentsCollectJourney } from '../journeys/payments-collect.js';
import { paymentsBalanceJourney } from '../journeys/payments-balance.js';
import { paymentsMinimumsJourney } from '../journeys/payments-minimums.js';
import { paymentsRefundsJourney } from '../journeys/payments-refunds.js';
import { refundCreditBalanceJourney } from '../journeys/refund-credit-balance.js';
import { paymentsRetriesJourney } from '../journeys/payments-retries.js';
import { docsUiJourney } from '../journeys/docs-ui.js';
import { oauthJourney } from '../journeys/oauth.js';
import { platformJourney } from '../journeys/platform.js';
import { rolesJourney } from '../journeys/roles.js';
import { schedulingJourney } from '../journeys/scheduling.js';
import { staffJourney } from '../journeys/staff.js';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { stripeControl } from '../support/stripe.js';

let t: TestApp;
// The collect journey moves its stand-in's clock (expiring every uncaptured hold in it): Node
// test files run in parallel against the shared stand-in, so this journey gets its own.
let ownStripe: StripeStandIn;
let collect: TestApp;
/** Apps with another CURRENCY on the same database (closed with t, which owns it). */
const inCurrency = new Map<string, TestApp>();
beforeAll(async () => {
  t = await createTestApp();
  ownStripe = await startStripeStandIn();
  const app = await createTestApp({ env: { STRIPE_API_URL: ownStripe.url } });
  collect = { ...app, stripe: stripeControl(ownStripe.url) };
});
afterAll(async () => {
  for (const app of inCurrency.values()) await app.deps.passwords.close?.();
  await t.close();
  await collect?.close();
  await ownStripe?.close();
});

authJourney(() => t);
oauthJourney(() => t);
sessionsJourney(() => t);
endedSessionsJourney(() => t);
erasureJourney(() => t);
recoveryJourney(() => t);
catalogJourney(() => t);
platformJourney(() => t);
docsUiJourney(() => t);
rolesJourney(() => t);
ordersJourney(() => t);
orderInputsJourney(() => t);
notificationsJourney(() => t);
schedulingJourney(() => t);
staffJourney(() => t);
paymentsJourney(() => t);
paymentsMinimumsJourney(() => t);
paymentsRefundsJourney(() => t);
refundCreditBalanceJourney(() => t);
paymentsRetriesJourney(() => t);
paymentsCollectJourney(() => collect);
paymentsBalanceJourney(
  () => t,
  async (code) => {
    const app = inCurrency.get(code) ?? (await createTestApp({ database: t.deps.database, env: { CURRENCY: code } }));
    inCurrency.set(code, app);
    return app;
  },
);
