/**
 * GET /v1/coverage: is a postcode served, and by which zone. One SQL statement (./zone-match.ts).
 * An unserved postcode is an answer (`served: false`), not an error.
 */
import type { Deps } from '../../deps.js';
import { zoneForPostcode, zoneSummaryOf, ZoneMatchRow } from './zone-match.js';

export async function checkCoverage(deps: Deps, postcode: string) {
  const [zone] = await deps.database.rows(ZoneMatchRow, zoneForPostcode(postcode));
  if (!zone) {
    return { postcode, served: false, zone: null, message: `We do not serve ${postcode} yet.` };
  }
  return { postcode, served: true, zone: zoneSummaryOf(zone, deps.config.currency) };
}
