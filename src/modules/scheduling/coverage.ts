/**
 * GET /v1/coverage: is a postcode served, and by which zone, for `viewer` (anonymous callers and
 * real customers never see a synthetic zone). One SQL statement (./zone-match.ts).
 * An unserved postcode is an answer (`served: false`), not an error.
 */
import type { Deps } from '../../deps.js';
import { zoneForPostcode, zoneSummaryOf, ZoneMatchRow, type ZoneViewer } from './zone-match.js';

export async function checkCoverage(deps: Deps, postcode: string, viewer: ZoneViewer) {
  const [zone] = await deps.database.rows(ZoneMatchRow, zoneForPostcode(postcode, viewer));
  if (!zone) {
    return { postcode, served: false, zone: null, message: `We do not serve ${postcode} yet.` };
  }
  return { postcode, served: true, zone: zoneSummaryOf(zone, deps.config.currency) };
}
