import { describe, it } from 'vitest';
import { raceForLastPlace } from '../journeys/reschedule.js';
import { workerHarness } from './support.js';

/*
 * The capacity race inside workerd (neon-http through the local endpoint, on the PostgreSQL
 * server when configured): a reschedule into a slot's last place against a new booking of it.
 */
describe('reschedule in the Worker', () => {
  it('moving into the last place races a booking of it: exactly one wins, capacity is exact', async () => {
    await raceForLastPlace(workerHarness, 10);
  });
});
