import { authJourney } from '../journeys/auth.js';
import { catalogJourney } from '../journeys/catalog.js';
import { ordersJourney } from '../journeys/orders.js';
import { orderInputsJourney } from '../journeys/order-inputs.js';
import { paymentsJourney } from '../journeys/payments.js';
import { paymentsCollectJourney } from '../journeys/payments-collect.js';
import { paymentsBalanceJourney } from '../journeys/payments-balance.js';
import { paymentsMinimumsJourney } from '../journeys/payments-minimums.js';
import { paymentsRefundsJourney } from '../journeys/payments-refunds.js';
import { paymentsRetriesJourney } from '../journeys/payments-retries.js';
import { docsUiJourney } from '../journeys/docs-ui.js';
import { platformJourney } from '../journeys/platform.js';
import { rolesJourney } from '../journeys/roles.js';
import { schedulingJourney } from '../journeys/scheduling.js';
import { staffJourney } from '../journeys/staff.js';
import { workerHarness, workerHarnessIn } from './support.js';

authJourney(() => workerHarness);
catalogJourney(() => workerHarness);
platformJourney(() => workerHarness);
docsUiJourney(() => workerHarness);
rolesJourney(() => workerHarness);
ordersJourney(() => workerHarness);
orderInputsJourney(() => workerHarness);
schedulingJourney(() => workerHarness);
staffJourney(() => workerHarness);
paymentsJourney(() => workerHarness);
paymentsMinimumsJourney(() => workerHarness);
paymentsRefundsJourney(() => workerHarness);
paymentsRetriesJourney(() => workerHarness);
paymentsCollectJourney(() => workerHarness);
paymentsBalanceJourney(
  () => workerHarness,
  async (code) => workerHarnessIn(code),
);
