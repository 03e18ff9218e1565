import { afterAll, beforeAll } from 'vitest';
import { generatedClientJourney } from '../journeys/generated-client.js';
import { checkedFetcher } from '../support/client.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

generatedClientJourney(
  () => t,
  // Every answer the generated client gets is also checked against /openapi.json at run time.
  () => checkedFetcher((request) => Promise.resolve(t.app.fetch(request))),
);
