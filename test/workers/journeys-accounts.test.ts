/**
 * The shared journeys in workerd, part 3: accounts and notifications (part 1 journeys.test.ts says
 * why the journeys are split: cloudflare/workers-sdk#15092 slows every request of a file).
 */
import { authJourney } from '../journeys/auth.js';
import { notificationsJourney } from '../journeys/notifications.js';
import { oauthJourney } from '../journeys/oauth.js';
import { rolesJourney } from '../journeys/roles.js';
import { sessionsJourney } from '../journeys/sessions.js';
import { endedSessionsJourney } from '../journeys/ended-sessions.js';
import { workerHarness } from './support.js';

authJourney(() => workerHarness);
oauthJourney(() => workerHarness);
sessionsJourney(() => workerHarness);
endedSessionsJourney(() => workerHarness);
rolesJourney(() => workerHarness);
notificationsJourney(() => workerHarness);
