import { AnyRow } from '../../db/client.js';
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { endSessions } from './shared.js';

/** POST /v1/auth/logout. */
/**
 * Ends the presented token's session: its whole family, through endSessions (so a refresh racing
 * the logout cannot keep it alive). Idempotent: an unknown token changes nothing.
 */
export async function revokeRefreshFamily(deps: Deps, presented: string): Promise<void> {
  const presentedHash = await deps.sha256Hex(presented);
  await deps.database.rows(AnyRow, sql`
    WITH ${endSessions('ended', 'logout', deps.clock.now(), sql`family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ${presentedHash})`)}
    SELECT count(*)::int AS ended FROM ended_families`);
}
