/**
 * PUT/DELETE /v1/me/devices/{device} (the FCM registration token), GET /v1/me/devices: the caller's push tokens. Each is one
 * statement. A token is one phone's FCM registration, and one phone has one signed-in account:
 * registering a token another account holds moves it to the caller (the other account's
 * notifications stop reaching that phone). Removing never touches another account's token.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { isoOf } from '../../db/timestamps.js';
import type { Deps } from '../../deps.js';
import type { DeviceDto, RegisterDeviceInput } from './schemas.js';

const DeviceRow = z.object({
  token: z.string(),
  platform: z.enum(['ios', 'android']),
  app_version: z.string().nullable(),
  locale: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
type DeviceRow = z.infer<typeof DeviceRow>;

const toDto = (r: DeviceRow): DeviceDto => ({
  token: r.token,
  platform: r.platform,
  appVersion: r.app_version,
  locale: r.locale,
  createdAt: isoOf(r.created_at),
  updatedAt: isoOf(r.updated_at),
});

/**
 * Upserts the device; `created` is true when the token was not the caller's before (new, or
 * moved from another account: 201), false when it was (200). A moved token keeps no trace of
 * its former owner (`created_at` restarts). Fields not sent are cleared, as PUT replaces.
 */
export async function registerDevice(deps: Deps, userId: string, token: string, input: RegisterDeviceInput): Promise<{ device: DeviceDto; created: boolean }> {
  const now = deps.clock.now().toISOString();
  const rows = await deps.database.rows(
    DeviceRow.extend({ created: z.boolean() }),
    sql`
      WITH before AS (SELECT user_id FROM devices WHERE token = ${token})
      INSERT INTO devices AS d (token, user_id, platform, app_version, locale, created_at, updated_at)
      VALUES (${token}, ${userId}::uuid, ${input.platform}, ${input.appVersion ?? null}, ${input.locale ?? null}, ${now}::timestamptz, ${now}::timestamptz)
      ON CONFLICT (token) DO UPDATE SET
        user_id = excluded.user_id,
        platform = excluded.platform,
        app_version = excluded.app_version,
        locale = excluded.locale,
        created_at = CASE WHEN d.user_id = excluded.user_id THEN d.created_at ELSE excluded.created_at END,
        updated_at = excluded.updated_at
      RETURNING d.token, d.platform, d.app_version, d.locale, d.created_at, d.updated_at,
        NOT EXISTS (SELECT 1 FROM before WHERE before.user_id = ${userId}::uuid) AS created`,
  );
  const row = rows[0]!;
  return { device: toDto(row), created: row.created };
}

/** Deletes the token if it is the caller's; absent or another account's: nothing happens (204 either way). */
export async function removeDevice(deps: Deps, userId: string, token: string): Promise<void> {
  await deps.database.rows(z.object({}), sql`DELETE FROM devices WHERE token = ${token} AND user_id = ${userId}::uuid`);
}

/** The caller's devices, most recently registered first (a handful per account). */
export async function listDevices(deps: Deps, userId: string): Promise<DeviceDto[]> {
  const rows = await deps.database.rows(
    DeviceRow,
    sql`SELECT token, platform, app_version, locale, created_at, updated_at FROM devices
        WHERE user_id = ${userId}::uuid ORDER BY updated_at DESC, token LIMIT 100`,
  );
  return rows.map(toDto);
}
