/**
 * Issue 19 in workerd: the promo redemption race over the real neon-http driver (each order its
 * own HTTP request to the local Neon endpoint). The rest of the promo and credit tests run on
 * Node: test/node/promo.test.ts.
 */
import { promoRaceJourney } from '../journeys/promo.js';
import { workerHarness } from './support.js';

promoRaceJourney(() => workerHarness);
