/**
 * Which zone serves a postcode, in SQL, so a request that needs "the zone for this postcode"
 * plus something else still costs one round trip. Used by coverage and bookable slots here, and
 * by addresses (its `served` flag), which import it from this file: scheduling's one export of
 * SQL to the modules above it.
 */
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { viewerIsSynthetic, type ZoneViewer } from '../../db/zone-viewer.js';
import { UK_POSTCODE_PATTERN } from '../../domain/postcodes.js';

/**
 * The zone prefixes that cover a postcode, as a one-column subquery (`k`): the SQL twin of
 * `postcodeKeys` in src/domain/postcodes.ts, built from the same `UK_POSTCODE_PATTERN`. A UK
 * postcode yields its area, district and sub-district; a postcode starting with digits yields
 * every leading run of them. test/node/postcode-sql.test.ts checks both give the same keys, on
 * PostgreSQL and PGlite.
 */
export function postcodeKeys(postcode: SQL | string): SQL {
  const pc = sql`upper(regexp_replace(${postcode}, '[[:space:]]', '', 'g'))`;
  return sql`
    SELECT k FROM (SELECT regexp_match(${pc}, ${UK_POSTCODE_PATTERN}) AS m) uk,
      unnest(ARRAY[uk.m[1],
                   uk.m[1] || uk.m[2] || CASE WHEN uk.m[3] ~ '^[0-9]$' THEN uk.m[3] ELSE '' END,
                   CASE WHEN uk.m[3] ~ '^[A-Z]$' THEN uk.m[1] || uk.m[2] || uk.m[3] END]) AS k
    WHERE k IS NOT NULL
    UNION ALL
    SELECT left(${pc}, n) FROM generate_series(1, length(substring(${pc} FROM '^[0-9]*'))) AS n`;
}

export { viewerIsSynthetic, type ZoneViewer } from '../../db/zone-viewer.js';

/**
 * A subquery yielding the one active zone serving `postcode` for `viewer`, or no row. Same rule
 * as `matchZone` in src/domain/postcodes.ts: only zones visible to the viewer count (a synthetic
 * zone for synthetic users only, a synthetic user only synthetic zones: `zoneVisibleTo`); a
 * prefix (compared without whitespace, upper-cased) covers the postcode when it is one of its
 * keys (area, district, sub-district, or a leading run of digits); the most specific (longest)
 * wins, ties broken by the lower zone id (uuid order in Postgres is byte order, which is the
 * order of the lower-case hex strings).
 */
export function zoneForPostcode(postcode: SQL | string, viewer: ZoneViewer): SQL {
  return sql`
    SELECT z.id, z.name, z.time_zone, z.delivery_fee, z.minimum_order, z.free_delivery_from
    FROM zones z
    CROSS JOIN LATERAL (
      SELECT upper(regexp_replace(raw, '[[:space:]]', '', 'g')) AS prefix FROM unnest(z.postcode_prefixes) AS raw
    ) p
    WHERE z.active AND z.synthetic = ${viewerIsSynthetic(viewer)} AND p.prefix IN (${postcodeKeys(postcode)})
    ORDER BY length(p.prefix) DESC, z.id
    LIMIT 1`;
}

/** The columns `zoneForPostcode` yields, as read back through `Database.rows`. */
export const ZoneMatchRow = z.object({
  id: z.string(),
  name: z.string(),
  time_zone: z.string(),
  delivery_fee: z.number(),
  minimum_order: z.number(),
  free_delivery_from: z.number().nullable(),
});
export type ZoneMatchRow = z.infer<typeof ZoneMatchRow>;

export function zoneSummaryOf(row: ZoneMatchRow, currency: string) {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    currency,
    deliveryFee: row.delivery_fee,
    minimumOrder: row.minimum_order,
    freeDeliveryFrom: row.free_delivery_from,
  };
}
