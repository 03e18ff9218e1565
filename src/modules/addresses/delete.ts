/** DELETE /v1/addresses/{id}: one statement. */
import { sql } from 'drizzle-orm';
import type { Deps } from '../../deps.js';
import { IdRow, notFound } from './shared.js';

/** Orders keep their own snapshot of the address; orders.address_id is ON DELETE SET NULL. */
export async function deleteAddress(deps: Deps, userId: string, id: string): Promise<void> {
  const rows = await deps.database.rows(
    IdRow,
    sql`DELETE FROM addresses WHERE id = ${id}::uuid AND user_id = ${userId}::uuid RETURNING id`,
  );
  deps.orderInputs.forget('address', [id]);
  if (rows.length === 0) throw notFound();
}
