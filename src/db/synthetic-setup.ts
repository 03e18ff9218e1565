/**
 * The synthetic customer that release probes place and cancel real orders as
 * (`npm run cli -- synthetic-setup`; docs/runbook.md, "Synthetic customer (release probes)"):
 * a synthetic zone covering a reserved postcode, its slots for the next SYNTHETIC_DAYS days, a
 * synthetic customer, and that customer's one address in the zone.
 *
 * Apart from real data by construction: zones are matched per viewer (`zoneVisibleTo` in
 * src/domain/postcodes.ts), so only synthetic users see synthetic zones and synthetic users see
 * nothing else; staff lists leave synthetic users' orders out.
 *
 * Idempotent, and it never touches non-synthetic data: the zone has a fixed id and is updated
 * only while `zones.synthetic` is true; the account is updated only while `users.synthetic` is
 * true (an existing real account with the email is refused); the slots are the zones module's
 * weekly generation (`generateZoneSlots`, the admin endpoint's code), which skips windows that
 * already have a slot, so each run tops up the days that came into the horizon. Each write is one
 * statement; a run that fails half-way is completed by running it again.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { SYNTHETIC_POSTCODE, SYNTHETIC_ZONE_PREFIX } from '../domain/postcodes.js';
import { generateZoneSlots } from '../modules/zones/generate-slots.js';
import { GenerateSlotsBody } from '../modules/zones/schemas.js';

/** How far ahead the synthetic zone has slots: today (UTC) and the 13 days after it. */
export const SYNTHETIC_DAYS = 14;

/** Fixed, so every run finds the zone it made, whatever an admin renamed it to. */
export const SYNTHETIC_ZONE_ID = '00000000-0000-4000-8000-0000005e7e71';

export const SYNTHETIC_ZONE_NAME = 'Synthetic: release probes';

/** Places per slot: far more than probes ever hold at once (each probe order is cancelled). */
export const SYNTHETIC_SLOT_CAPACITY = 1000;

/**
 * Every day (UTC): pickups and deliveries 06–08, 12–14 and 18–20, booking closing 30 min before.
 * 42 windows, within the template's limit of 50; with 14 days of them a probe always finds a
 * pickup tomorrow and a delivery after the longest turnaround (72 h).
 */
const SYNTHETIC_WINDOWS = [0, 1, 2, 3, 4, 5, 6].flatMap((weekday) =>
  (['pickup', 'delivery'] as const).flatMap((kind) =>
    [
      ['06:00', '08:00'],
      ['12:00', '14:00'],
      ['18:00', '20:00'],
    ].map(([start, end]) => ({ weekday, kind, start: start!, end: end!, capacity: SYNTHETIC_SLOT_CAPACITY })),
  ),
);

export interface SyntheticSetupInput {
  /** Already normalised (trimmed, lower-case) and checked by the caller (the auth module's `Email`). */
  email: string;
  /** Already checked by the caller (the auth module's `NewPassword`). */
  password: string;
}

export interface SyntheticSetupSummary {
  zone: { id: string; name: string; postcodePrefixes: string[]; created: boolean };
  /** UTC dates, inclusive; `created` is how many slots this run added. */
  slots: { from: string; to: string; created: number; capacity: number };
  user: { id: string; email: string; created: boolean; passwordChanged: boolean };
  address: { id: string; postcode: string; created: boolean; removed: number };
}

export class SyntheticSetupError extends Error {}

const ZoneRow = z.object({ id: z.string(), created: z.boolean() });
const ExistingUser = z.object({ id: z.string(), synthetic: z.boolean(), password_hash: z.string() });
const UserRow = z.object({ id: z.string(), created: z.boolean() });
const AddressRow = z.object({ kept: z.string().nullable(), inserted: z.string().nullable(), removed: z.coerce.number() });

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * Creates or updates the synthetic zone, its slots, customer and address; see the module
 * comment. Five or six round trips (zone upsert, slot read and insert, account read, account
 * upsert, address statement), plus one Argon2id hash when the account is new or its password
 * changed. Throws `SyntheticSetupError` when the email belongs to a real account, or the fixed
 * zone id to a real zone.
 */
export async function setupSyntheticCustomer(
  deps: Pick<Deps, 'database' | 'clock' | 'passwords'>,
  input: SyntheticSetupInput,
): Promise<SyntheticSetupSummary> {
  const now = deps.clock.now();
  const at = now.toISOString();

  // Zone: inserted, or brought back to its settings, only while it is synthetic.
  const [zone] = await deps.database.rows(ZoneRow, sql`
    INSERT INTO zones (id, name, postcode_prefixes, time_zone, active, delivery_fee, minimum_order, free_delivery_from, synthetic, created_at, updated_at)
    VALUES (${SYNTHETIC_ZONE_ID}::uuid, ${SYNTHETIC_ZONE_NAME}, ARRAY[${SYNTHETIC_ZONE_PREFIX}]::text[], 'UTC', true, 0, 0, NULL, true,
            ${at}::timestamptz, ${at}::timestamptz)
    ON CONFLICT (id) DO UPDATE SET
      name = EXCLUDED.name, postcode_prefixes = EXCLUDED.postcode_prefixes, time_zone = EXCLUDED.time_zone, active = true,
      delivery_fee = 0, minimum_order = 0, free_delivery_from = NULL, updated_at = EXCLUDED.updated_at
    WHERE zones.synthetic
    RETURNING id, (xmax = 0) AS created`);
  if (!zone) throw new SyntheticSetupError(`zone ${SYNTHETIC_ZONE_ID} exists and is not synthetic; refusing to change it`);

  // Slots: the admin endpoint's generation, which skips windows that already have a slot.
  const from = at.slice(0, 10);
  const to = addDays(from, SYNTHETIC_DAYS - 1);
  const generated = await generateZoneSlots(
    deps,
    SYNTHETIC_ZONE_ID,
    GenerateSlotsBody.parse({ cutoffMinutes: 30, windows: SYNTHETIC_WINDOWS, from, to }),
  );

  // Customer: a real account with this email is never touched; the password is rehashed only when it changed.
  const [existing] = await deps.database.rows(
    ExistingUser,
    sql`SELECT id, synthetic, password_hash FROM users WHERE email = ${input.email}`,
  );
  if (existing && !existing.synthetic) {
    throw new SyntheticSetupError(`${input.email} is a real (non-synthetic) account; choose another email for the synthetic customer`);
  }
  const passwordChanged = !existing || !(await deps.passwords.verify(input.password, existing.password_hash));
  const passwordHash = passwordChanged ? await deps.passwords.hash(input.password) : existing.password_hash;
  const [user] = await deps.database.rows(UserRow, sql`
    INSERT INTO users (email, password_hash, role, name, synthetic, created_at, updated_at)
    VALUES (${input.email}, ${passwordHash}, 'customer', 'Synthetic release probe', true, ${at}::timestamptz, ${at}::timestamptz)
    ON CONFLICT (email) DO UPDATE SET
      password_hash = EXCLUDED.password_hash, role = 'customer', disabled_at = NULL, updated_at = EXCLUDED.updated_at
    WHERE users.synthetic
    RETURNING id, (xmax = 0) AS created`);
  if (!user) throw new SyntheticSetupError(`${input.email} became a real account during setup; refusing to change it`);

  // Exactly one address, in the zone: the oldest one there is kept, every other one removed.
  const [address] = await deps.database.rows(AddressRow, sql`
    WITH keep AS (
      SELECT id FROM addresses WHERE user_id = ${user.id}::uuid AND postcode = ${SYNTHETIC_POSTCODE}
      ORDER BY created_at, id LIMIT 1
    ),
    del AS (
      DELETE FROM addresses WHERE user_id = ${user.id}::uuid AND id NOT IN (SELECT id FROM keep) RETURNING id
    ),
    ins AS (
      INSERT INTO addresses (user_id, label, line1, line2, city, postcode, instructions, created_at, updated_at)
      SELECT ${user.id}::uuid, 'Release probe', 'Synthetic address (no real premises)', NULL, 'Nowhere', ${SYNTHETIC_POSTCODE},
             'Release probe: never collected or delivered', ${at}::timestamptz, ${at}::timestamptz
      WHERE NOT EXISTS (SELECT 1 FROM keep)
      RETURNING id
    )
    SELECT (SELECT id FROM keep)::text AS kept, (SELECT id FROM ins)::text AS inserted, (SELECT count(*) FROM del)::int AS removed`);
  const addressId = address?.kept ?? address?.inserted;
  if (!address || !addressId) throw new Error('synthetic setup: the address statement returned no address');

  return {
    zone: { id: zone.id, name: SYNTHETIC_ZONE_NAME, postcodePrefixes: [SYNTHETIC_ZONE_PREFIX], created: zone.created },
    slots: { from, to, created: generated.created, capacity: SYNTHETIC_SLOT_CAPACITY },
    user: { id: user.id, email: input.email, created: user.created, passwordChanged },
    address: { id: addressId, postcode: SYNTHETIC_POSTCODE, created: address.inserted !== null, removed: address.removed },
  };
}
