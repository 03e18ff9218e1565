/**
 * The shared journeys in workerd, part 1 (payments: journeys-payments.test.ts; accounts and
 * notifications: journeys-accounts.test.ts). Split
 * because @cloudflare/vitest-pool-workers 0.23 wraps its entrypoint prototype in one more Proxy
 * on every SELF.fetch (cloudflare/workers-sdk#15092): property reads get slower with every
 * request of a test file, and past some thousands of requests workerd throws "Maximum call
 * stack size exceeded". Each file starts afresh.
 */
import { catalogJourney } from '../journeys/catalog.js';
import { ordersJourney } from '../journeys/orders.js';
import { orderInputsJourney } from '../journeys/order-inputs.js';
import { docsUiJourney } from '../journeys/docs-ui.js';
import { platformJourney } from '../journeys/platform.js';
import { schedulingJourney } from '../journeys/scheduling.js';
import { staffJourney } from '../journeys/staff.js';
import { workerHarness } from './support.js';

catalogJourney(() => workerHarness);
platformJourney(() => workerHarness);
docsUiJourney(() => workerHarness);
ordersJourney(() => workerHarness);
orderInputsJourney(() => workerHarness);
schedulingJourney(() => workerHarness);
staffJourney(() => workerHarness);
