import { SELF } from 'cloudflare:test';
import { generatedClientJourney } from '../journeys/generated-client.js';
import { checkedFetcher } from '../support/client.js';
import { validation, workerHarness } from './support.js';

generatedClientJourney(
  () => workerHarness,
  // Every answer the generated client gets is also checked against /openapi.json at run time.
  () => checkedFetcher((request) => SELF.fetch(request), undefined, validation),
);
