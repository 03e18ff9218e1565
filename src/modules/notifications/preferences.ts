/**
 * GET/PATCH /v1/me/notification-preferences: the effective matrix (src/notifications/preferences.ts:
 * the defaults, with the customer's overrides applied) and its change. Each is one statement.
 */
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { NOTIFICATION_CHANNELS, NOTIFICATION_TYPES, type NotificationChannel, type NotificationType } from '../../db/schema-notification-kinds.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { DEFAULT_PREFERENCES, effectivePreferences, MANDATORY_TYPES, type PreferenceOverride } from '../../notifications/preferences.js';
import type { UpdatePreferencesInput } from './schemas.js';

export interface PreferencesDto {
  matrix: Record<NotificationType, Record<NotificationChannel, boolean>>;
  mandatory: NotificationType[];
}

const OverrideRow = z.object({
  kind: z.enum(['override', 'silenced']),
  type: z.enum(NOTIFICATION_TYPES),
  channel: z.enum(NOTIFICATION_CHANNELS).nullable(),
  enabled: z.boolean().nullable(),
});

const dto = (overrides: PreferenceOverride[]): PreferencesDto => ({ matrix: effectivePreferences(overrides), mandatory: [...MANDATORY_TYPES] });

export async function getPreferences(deps: Deps, userId: string): Promise<PreferencesDto> {
  const rows = await deps.database.rows(
    OverrideRow,
    sql`SELECT 'override' AS kind, type::text AS type, channel::text AS channel, enabled
        FROM notification_preferences WHERE user_id = ${userId}::uuid`,
  );
  return dto(rows.map((r) => ({ type: r.type, channel: r.channel!, enabled: r.enabled! })));
}

/** The cells a partial matrix sets, in a stable order. */
export function cellsOf(input: UpdatePreferencesInput): PreferenceOverride[] {
  const out: PreferenceOverride[] = [];
  for (const type of NOTIFICATION_TYPES) {
    const flags = input[type];
    if (!flags) continue;
    for (const channel of NOTIFICATION_CHANNELS) {
      const enabled = flags[channel];
      if (enabled !== undefined) out.push({ type, channel, enabled });
    }
  }
  return out;
}

/**
 * Upserts the cells sent, in ONE statement that also merges them with the stored overrides and
 * the defaults for the mandatory types and writes nothing when one of those would end with every
 * channel off (422 `preference_required`, the types in `details.types`). Rule source:
 * src/notifications/preferences.ts (MANDATORY_TYPES). Known limit: two concurrent PATCHes of the
 * same account each see the overrides as they were before both (one statement, one snapshot), so
 * two that each switch off a different last channel of a mandatory type could together silence
 * it; the dispatcher must therefore not trust the stored matrix alone for mandatory types.
 */
export async function updatePreferences(deps: Deps, userId: string, input: UpdatePreferencesInput): Promise<PreferencesDto> {
  const cells = cellsOf(input);
  const now = deps.clock.now().toISOString();
  const values = sql.join(
    cells.map((c) => sql`(${c.type}::notification_type, ${c.channel}::notification_channel, ${c.enabled}::boolean)`),
    sql`, `,
  );
  const defaults = sql.join(
    MANDATORY_TYPES.flatMap((type) =>
      NOTIFICATION_CHANNELS.map((channel) => sql`(${type}::notification_type, ${channel}::notification_channel, ${DEFAULT_PREFERENCES[type][channel]}::boolean)`),
    ),
    sql`, `,
  );
  const rows = await deps.database.rows(
    OverrideRow,
    sql`
      WITH input (type, channel, enabled) AS (VALUES ${values}),
      stored AS (SELECT type, channel, enabled FROM notification_preferences WHERE user_id = ${userId}::uuid),
      mandatory (type, channel, enabled) AS (VALUES ${defaults}),
      silenced AS (
        SELECT m.type FROM mandatory m
        LEFT JOIN input i ON i.type = m.type AND i.channel = m.channel
        LEFT JOIN stored s ON s.type = m.type AND s.channel = m.channel
        GROUP BY m.type
        HAVING NOT bool_or(COALESCE(i.enabled, s.enabled, m.enabled))
      ),
      written AS (
        INSERT INTO notification_preferences (user_id, type, channel, enabled, updated_at)
        SELECT ${userId}::uuid, type, channel, enabled, ${now}::timestamptz FROM input
        WHERE NOT EXISTS (SELECT 1 FROM silenced)
        ON CONFLICT (user_id, type, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at
        RETURNING type, channel, enabled
      )
      SELECT 'silenced' AS kind, type::text AS type, NULL::text AS channel, NULL::boolean AS enabled FROM silenced
      UNION ALL
      SELECT 'override', type::text, channel::text, enabled FROM written
      UNION ALL
      SELECT 'override', s.type::text, s.channel::text, s.enabled FROM stored s
      WHERE NOT EXISTS (SELECT 1 FROM input i WHERE i.type = s.type AND i.channel = s.channel)`,
  );
  const silenced = rows.filter((r) => r.kind === 'silenced').map((r) => r.type);
  if (silenced.length > 0) {
    throw new ApiError('preference_required', `These notifications cannot be switched off on every channel: ${silenced.join(', ')}.`, {
      details: { types: silenced },
    });
  }
  return dto(rows.map((r) => ({ type: r.type, channel: r.channel!, enabled: r.enabled! })));
}
