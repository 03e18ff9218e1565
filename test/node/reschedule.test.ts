import { afterAll, beforeAll } from 'vitest';
import { rescheduleJourney } from '../journeys/reschedule.js';
import { missedPickupJourney } from '../journeys/missed-pickup.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

rescheduleJourney(() => t);
missedPickupJourney(() => t);
