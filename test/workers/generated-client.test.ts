import { SELF } from 'cloudflare:test';
import { generatedClientJourney } from '../journeys/generated-client.js';
import { workerHarness } from './support.js';

generatedClientJourney(
  () => workerHarness,
  () => (request) => SELF.fetch(request),
);
