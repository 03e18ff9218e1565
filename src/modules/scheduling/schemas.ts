import { z } from '@hono/zod-openapi';
import { isZonePrefix } from '../../domain/postcodes.js';
import { MAX_CUTOFF_MINUTES, MAX_SLOT_CAPACITY, normalizePostcode } from '../../domain/slots.js';
import { assertTimeZone, parseWallTime } from '../../domain/zoned-time.js';
import { date, instantOut, integer, integerOut, text, timestamp, uuidOut } from '../../http/schemas.js';

// ---- building blocks (also used by src/modules/zones and src/modules/addresses) ----------------

export { IdParam } from '../../http/schemas.js';

export const SlotKind = z.enum(['pickup', 'delivery']).openapi({ example: 'pickup' });

/** Any offset is accepted on input (handlers see it in UTC); responses are always UTC (`Z`). */
export const DateTime = timestamp();

export const LocalDate = date().openapi({ example: '2026-12-25', description: "A date on the zone's local calendar." });

export const WallTime = text({ max: 5, trim: false })
  .refine((v) => parseWallTime(v) !== null, 'must be HH:MM, 00:00-23:59')
  .openapi({ example: '09:00' });

export const MinorUnits = integer({ min: 0, max: 10_000_000 }).openapi({ description: 'Integer minor units (e.g. cents).', example: 499 });

export const Capacity = integer({ min: 1, max: MAX_SLOT_CAPACITY }).openapi({ example: 8 });
export const CutoffMinutes = integer({ min: 0, max: MAX_CUTOFF_MINUTES }).openapi({
  description: 'Booking closes this many minutes before the window starts.',
  example: 120,
});

// Checked with refine, not regex: a regex would be published as an OpenAPI `pattern` that the
// raw input ('sw1a 1aa') fails, though the server accepts it.
const NORMALISED = /^[A-Z0-9]{1,10}$/;

/**
 * Spaces and case are ignored (stored upper-case without spaces). Only prefixes that can match at
 * a boundary are accepted (`isZonePrefix`): a UK area, district or sub-district, or digits.
 */
export const PostcodePrefix = text({ max: 20, trim: false })
  .overwrite((v) => v.replace(/\s+/g, '').toUpperCase())
  .refine(isZonePrefix, 'must be a UK postcode area (SW), district (SW1, SW19) or sub-district (SW1A), or 1-10 digits')
  .openapi({
    example: 'SW1',
    description:
      'A UK postcode area (`SW`), district (`SW1`, `SW19`) or sub-district (`SW1A`), matched only at that boundary: `SW1` covers SW1A 1AA but not SW19 5AE. Or 1-10 digits for a numeric system (US ZIP codes), matched as a plain prefix: `941` covers 94103. Spaces and case are ignored.',
  });

/**
 * IANA names only. Offsets such as "+01:00" are refused even where Intl accepts them:
 * Postgres reads them POSIX-style with the sign flipped, so closed dates would shift.
 */
export const TimeZoneName = text({ max: 64, trim: false })
  .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, 'must be an IANA time zone such as Europe/London')
  .refine((v) => {
    try {
      assertTimeZone(v);
      return true;
    } catch {
      return false;
    }
  }, 'unknown time zone')
  .openapi({ example: 'Europe/London' });

/** Postcode in a request body: normalised in place, so the handler gets the stored form. */
export const PostcodeBody = text({ max: 20, trim: false })
  .overwrite((v) => {
    try {
      return normalizePostcode(v);
    } catch {
      return v;
    }
  })
  .refine((v) => NORMALISED.test(v), 'must be 1-10 letters or digits (spaces are ignored)')
  .openapi({ example: 'SW1A 1AA', description: 'Spaces and case are ignored; stored upper-case without spaces.' });

// ---- public ------------------------------------------------------------------------------------

export const ZoneSummarySchema = z
  .object({
    id: uuidOut(),
    name: z.string().openapi({ example: 'Central London' }),
    timeZone: z.string().openapi({ example: 'Europe/London' }),
    currency: z.string().openapi({ example: 'USD' }),
    deliveryFee: integerOut().openapi({ example: 499 }),
    minimumOrder: integerOut().openapi({ example: 1500 }),
    freeDeliveryFrom: integerOut().nullable().openapi({ example: 5000 }),
  })
  .openapi('ZoneSummary');

export const CoverageQuery = z.object({
  postcode: text({ max: 32, trim: false }).openapi({ param: { name: 'postcode', in: 'query' }, example: 'SW1A 1AA' }),
});

export const CoverageSchema = z
  .object({
    postcode: z.string().openapi({ example: 'SW1A1AA', description: 'Normalised: upper-case, no spaces.' }),
    served: z.boolean(),
    zone: ZoneSummarySchema.nullable(),
    message: z.string().optional().openapi({ example: 'We do not serve SW1A1AA yet.' }),
  })
  .openapi('Coverage');

export const SlotsQuery = z.object({
  postcode: text({ max: 32, trim: false }).openapi({ param: { name: 'postcode', in: 'query' }, example: 'SW1A 1AA' }),
  kind: SlotKind.openapi({ param: { name: 'kind', in: 'query' } }),
  from: DateTime.optional().openapi({ param: { name: 'from', in: 'query' }, description: 'Default: now.' }),
  to: DateTime.optional().openapi({
    param: { name: 'to', in: 'query' },
    example: '2026-04-10T09:00:00Z',
    description: 'Default: from + 14 days. At most 31 days after from.',
  }),
});

export const PublicSlotSchema = z
  .object({
    id: uuidOut(),
    kind: SlotKind,
    startsAt: instantOut().openapi({ example: '2026-03-27T09:00:00.000Z' }),
    endsAt: instantOut().openapi({ example: '2026-03-27T11:00:00.000Z' }),
    capacity: integerOut().openapi({ example: 8 }),
    remaining: integerOut().openapi({ example: 3 }),
    cutoffAt: instantOut().openapi({ example: '2026-03-27T07:00:00.000Z', description: 'Booking closes at this instant.' }),
  })
  .openapi('AvailableSlot');

export const SlotListSchema = z
  .object({ zone: ZoneSummarySchema, data: z.array(PublicSlotSchema) })
  .openapi('AvailableSlots');

export type PublicSlotDto = z.infer<typeof PublicSlotSchema>;
