/** GET /v1/admin/promo-codes: one SELECT, newest first. */
import { desc } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { promoCodes } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import type { PromoCodeDto } from './schemas.js';
import { toPromoCodeDto } from './shared.js';

/** At most this many codes are listed (newest first): a shop keeps tens, not thousands. */
export const MAX_LISTED_CODES = 500;

export async function listPromoCodes(deps: Deps): Promise<PromoCodeDto[]> {
  const rows = await runQuery(deps.database, (db) => db.select().from(promoCodes).orderBy(desc(promoCodes.createdAt), desc(promoCodes.id)).limit(MAX_LISTED_CODES));
  return rows.map(toPromoCodeDto);
}
