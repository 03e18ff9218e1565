/**
 * Issue 19 in workerd: credit spent by 20 parallel orders over the real neon-http driver (each
 * order its own HTTP request to the local Neon endpoint). The rest of the credit tests run on
 * Node: test/node/credit.test.ts.
 */
import { creditRaceJourney } from '../journeys/credit.js';
import { workerHarness } from './support.js';

creditRaceJourney(() => workerHarness);
