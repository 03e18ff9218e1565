/**
 * Postcodes and the zone prefixes that cover them. Pure: no I/O.
 *
 * The rule, in one place: a zone prefix covers a postcode when it is one of the postcode's
 * `postcodeKeys`. For a UK postcode those are its area, its district and (when it has one) its
 * sub-district, so a prefix only ever matches at one of those boundaries:
 *   SW1A 1AA → SW, SW1, SW1A      SW19 5AE → SW, SW19      S1 1AA → S, S1
 * Hence `SW1` covers SW1A 1AA and SW1P 3BU but not SW19 5AE or SW11 1AA, and `SW` does not cover
 * S1 1AA. Source of the structure: the Royal Mail / ONS postcode format (outward code = area of
 * 1-2 letters + district of one digit, two digits, or a digit and a sub-district letter; inward
 * code = one digit + two letters, always the last three characters).
 * For a numeric system (US ZIP codes) the keys are every leading run of the postcode's digits, so
 * numeric prefixes keep plain prefix matching: `941` covers 94103, `94103` covers 94103-1234.
 *
 * The SQL side (`zoneForPostcode` in src/modules/scheduling/zone-match.ts) computes the same keys from
 * `UK_POSTCODE_PATTERN`; test/node/postcode-sql.test.ts runs this module's cases through both.
 */
import { DomainError } from './errors.js';

export const MAX_POSTCODE_LENGTH = 10;

/**
 * Area, then district digit, then an optional second district digit or sub-district letter,
 * then an optional inward code. Groups: 1 area, 2 district digit, 3 digit/letter or '', 4 inward.
 * Unambiguous because the inward code is always exactly digit-letter-letter at the end.
 * Written so PostgreSQL's regexp_match reads it the same way as JavaScript.
 */
export const UK_POSTCODE_PATTERN = '^([A-Z]{1,2})(?:([0-9])([0-9A-Z]?)([0-9][A-Z]{2})?)?$';
const UK_POSTCODE = new RegExp(UK_POSTCODE_PATTERN);

export interface Zone {
  id: string;
  postcodePrefixes: string[];
  active: boolean;
  /** A release-probe zone (`zones.synthetic`): matched for synthetic users only. */
  synthetic: boolean;
}

/**
 * Who a postcode is being matched for. `synthetic` is the caller's `users.synthetic`; an
 * anonymous caller is `{ synthetic: false }`. Required by `matchZone` (and its SQL twin
 * `zoneForPostcode`), so no caller can match zones without saying for whom.
 */
export interface ZoneViewer {
  synthetic: boolean;
}

/**
 * The rule that keeps release probes apart from real customers (docs/runbook.md, "Synthetic
 * customer (release probes)"): a synthetic zone serves only synthetic users, and a synthetic user
 * is served only by synthetic zones. So real customers never see probe zones or book their slots,
 * and probes never take real capacity.
 */
export function zoneVisibleTo(zone: Pick<Zone, 'synthetic'>, viewer: ZoneViewer): boolean {
  return zone.synthetic === viewer.synthetic;
}

/**
 * The postcode area reserved for the synthetic zone, and a postcode in it. `Q` is never the first
 * letter of a UK postcode area (Royal Mail: Q, V and X are not used in the first position; see
 * https://en.wikipedia.org/wiki/Postcodes_in_the_United_Kingdom#Formatting), and no numeric system
 * starts with a letter, so no real customer's postcode has these keys. Admin zones refuse prefixes
 * in this area (`isReservedPrefix`), so no real zone can claim it either.
 */
export const SYNTHETIC_POSTCODE_AREA = 'QQ';
export const SYNTHETIC_ZONE_PREFIX = 'QQ9';
export const SYNTHETIC_POSTCODE = 'QQ99QQ';

function strip(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase();
}

/**
 * Postcodes are stored upper-case without spaces, so 'sw1a 1aa' and 'SW1A1AA' are one address.
 * A ZIP+4 hyphen ('94103-1234') is dropped; any other punctuation is refused.
 */
export function normalizePostcode(raw: string): string {
  let postcode = typeof raw === 'string' ? strip(raw) : '';
  if (/^[0-9]{5}-[0-9]{4}$/.test(postcode)) postcode = postcode.replace('-', '');
  if (postcode === '' || postcode.length > MAX_POSTCODE_LENGTH || !/^[A-Z0-9]+$/.test(postcode)) {
    throw new DomainError('invalid_postcode', 'Postcode must be 1-10 letters or digits', { postcode: raw });
  }
  return postcode;
}

/**
 * The zone prefixes that cover a postcode (spaces and case ignored), broadest first. A postcode
 * that is neither UK-shaped nor starts with digits has no keys: no zone covers it.
 */
export function postcodeKeys(postcode: string): string[] {
  const p = strip(postcode);
  const uk = UK_POSTCODE.exec(p);
  if (uk) {
    const [, area = '', digit, next = ''] = uk;
    const keys = [area];
    if (digit !== undefined) {
      keys.push(area + digit + (/[0-9]/.test(next) ? next : ''));
      if (/[A-Z]/.test(next)) keys.push(area + digit + next);
    }
    return keys;
  }
  const digits = /^[0-9]*/.exec(p)![0];
  return Array.from({ length: digits.length }, (_, i) => digits.slice(0, i + 1));
}

/**
 * Whether `prefix` can name a UK area (`SW`), district (`SW1`, `SW19`) or sub-district (`SW1A`),
 * or is a run of digits (a numeric system's prefix). Anything else could never match at a
 * boundary (`SW1A1`, `SWX`, `1AB`), so zones refuse it. Spaces and case are ignored.
 */
export function isZonePrefix(prefix: string): boolean {
  const p = strip(prefix);
  if (p === '' || p.length > MAX_POSTCODE_LENGTH) return false;
  // A valid prefix is exactly the most specific key of itself read as a postcode.
  return postcodeKeys(p).at(-1) === p;
}

/** Whether a zone prefix lies in the area reserved for the synthetic zone (`QQ`, `QQ9`, `QQ9A`…). */
export function isReservedPrefix(prefix: string): boolean {
  return postcodeKeys(prefix)[0] === SYNTHETIC_POSTCODE_AREA;
}

/** Whether one zone prefix covers a postcode; see the module comment for the rule. */
export function prefixCovers(prefix: string, postcode: string): boolean {
  const p = strip(prefix);
  return p !== '' && postcodeKeys(postcode).includes(p);
}

/**
 * The active zone serving a postcode for `viewer`. Only zones visible to the viewer count
 * (`zoneVisibleTo`: synthetic zones for synthetic users only). The most specific prefix wins (a
 * sub-district zone carves itself out of a district or area zone); equal ones are broken by zone
 * id, so the answer does not depend on the order zones were loaded. Same rule and ordering as
 * `zoneForPostcode` in SQL.
 */
export function matchZone(postcode: string, zones: readonly Zone[], viewer: ZoneViewer): { zoneId: string; prefix: string } | null {
  const keys = postcodeKeys(normalizePostcode(postcode));
  let best: { zoneId: string; prefix: string } | null = null;
  for (const zone of zones) {
    if (!zone.active || !zoneVisibleTo(zone, viewer)) continue;
    for (const rawPrefix of zone.postcodePrefixes) {
      const prefix = strip(rawPrefix);
      // An empty prefix would silently cover every postcode in the country.
      if (prefix === '' || !keys.includes(prefix)) continue;
      const better =
        best === null ||
        prefix.length > best.prefix.length ||
        (prefix.length === best.prefix.length && zone.id < best.zoneId);
      if (better) best = { zoneId: zone.id, prefix };
    }
  }
  return best;
}
