/** The shared payments journeys in workerd (part 2 of journeys.test.ts: why the split, there). */
import { paymentsJourney } from '../journeys/payments.js';
import { paymentsCollectJourney } from '../journeys/payments-collect.js';
import { paymentsBalanceJourney } from '../journeys/payments-balance.js';
import { paymentsMinimumsJourney } from '../journeys/payments-minimums.js';
import { paymentsRefundsJourney } from '../journeys/payments-refunds.js';
import { refundCreditBalanceJourney } from '../journeys/refund-credit-balance.js';
import { paymentsRetriesJourney } from '../journeys/payments-retries.js';
import { workerHarness, workerHarnessIn } from './support.js';

paymentsJourney(() => workerHarness);
paymentsMinimumsJourney(() => workerHarness);
paymentsRefundsJourney(() => workerHarness);
refundCreditBalanceJourney(() => workerHarness);
paymentsRetriesJourney(() => workerHarness);
paymentsCollectJourney(() => workerHarness);
paymentsBalanceJourney(
  () => workerHarness,
  async (code) => workerHarnessIn(code),
);
