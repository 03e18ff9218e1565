/**
 * The account recovery journey in workerd (issue 18), in a file of its own (journeys-accounts.test.ts
 * says why the journeys are split: cloudflare/workers-sdk#15092 slows every request of a file).
 * The seal is opened with WebCrypto inside workerd, as the Worker's dispatcher does.
 */
import { recoveryJourney } from '../journeys/recovery.js';
import { workerHarness } from './support.js';

recoveryJourney(() => workerHarness);
