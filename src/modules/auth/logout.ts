import { AnyRow } from '../../db/client.js';
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';

/** POST /v1/auth/logout. */
/** Revokes the presented token's whole family. Idempotent: an unknown token changes nothing. */
export async function revokeRefreshFamily(deps: Deps, presented: string): Promise<void> {
  const presentedHash = await deps.sha256Hex(presented);
  await deps.database.rows(AnyRow, sql`
    UPDATE refresh_tokens SET revoked_at = ${deps.clock.now().toISOString()}::timestamptz, revoked_reason = 'logout'
    WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ${presentedHash})
      AND revoked_at IS NULL`);
}
