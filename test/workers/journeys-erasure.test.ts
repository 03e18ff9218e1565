/**
 * The erasure journey in workerd (test/journeys/erasure.ts): DELETE /v1/me over the real neon-http
 * driver, then the deleted account's token refused. In a file of its own: cloudflare/workers-sdk#15092
 * slows every request of a file (journeys.test.ts).
 */
import { erasureJourney } from '../journeys/erasure.js';
import { workerHarness } from './support.js';

erasureJourney(() => workerHarness);
