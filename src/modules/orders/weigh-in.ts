import { z } from 'zod';
import { sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { readjustFinal, type AdjustedBreakdown } from '../../domain/credit.js';
import { parseRows, runQuery, type Db } from '../../db/client.js';
import { priceOrder, storableBreakdown, type LineInput } from '../../domain/pricing.js';
import type { orderLines, orders } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { ApiError, type FieldError } from '../../errors.js';
import type { OrderDto, TimelineEntryDto, WeighInInput } from './schemas.js';
import { creditUnusedAtWeighIn } from './redeem.js';
import { balanceOf, orderQuery, toOrderDto, type StaffActor } from './shared.js';

type OrderRow = typeof orders.$inferSelect;
type LineRow = typeof orderLines.$inferSelect;

/** One statement: the order as stored (prices, rules, lines with positions) and as the API shows it. */
async function loadOrder(deps: Deps, orderId: string) {
  const row = await runQuery(deps.database, (db) => orderQuery(db, orderId));
  if (!row) throw new ApiError('not_found', 'No such order.');
  const dto = toOrderDto(row);
  return { row, lines: [...row.lines].sort((a, b) => a.position - b.position), dto };
}

function alreadyWeighed(weighedAt: Date | string): ApiError {
  return new ApiError('already_weighed', 'This order has been weighed; the final price is fixed.', { details: { weighedAt: new Date(weighedAt).toISOString() } });
}

function notAllowed(status: string): ApiError {
  return new ApiError('weigh_in_not_allowed', `An order that is ${status} cannot be weighed; weigh-in happens while it is processing.`, { details: { status, required: 'processing' } });
}

/** The final measure of every line (grams for per_kg, items for per_item), or 422 naming each bad field. */
function measure(lines: LineRow[], input: WeighInInput): Map<number, number> {
  const perKg = lines.filter((l) => l.pricingModel === 'per_kg');
  const out = new Map<number, number>();
  const errors: FieldError[] = [];
  if (input.weightGrams !== undefined) {
    if (perKg.length !== 1) {
      const message = `this order has ${perKg.length} per_kg lines; send \`lines\` with a weight for each`;
      throw new ApiError('validation_failed', `body.weightGrams: ${message}`, [{ field: 'body.weightGrams', message }]);
    }
    out.set(perKg[0]!.position, input.weightGrams);
  } else {
    (input.lines ?? []).forEach((entry, i) => {
      const at = `body.lines.${i}`;
      const line = lines.find((l) => l.position === entry.position);
      if (!line) return errors.push({ field: `${at}.position`, message: `the order has no line at position ${entry.position}` });
      if (out.has(line.position)) return errors.push({ field: `${at}.position`, message: `position ${entry.position} is given twice` });
      if (line.pricingModel === 'per_kg') {
        if (entry.quantity !== undefined) errors.push({ field: `${at}.quantity`, message: 'a per_kg line is weighed: send weightGrams' });
        else if (entry.weightGrams === undefined) errors.push({ field: `${at}.weightGrams`, message: 'required for a per_kg line' });
        else out.set(line.position, entry.weightGrams);
      } else if (entry.weightGrams !== undefined) {
        errors.push({ field: `${at}.weightGrams`, message: 'a per_item line is counted: send quantity' });
      } else if (entry.quantity !== undefined) {
        out.set(line.position, entry.quantity);
      }
      return undefined;
    });
    for (const line of perKg) {
      if (!out.has(line.position) && !(input.lines ?? []).some((e) => e.position === line.position)) {
        errors.push({ field: 'body.lines', message: `line ${line.position} (${line.serviceName}) is priced per kg and needs its weighed weightGrams` });
      }
    }
  }
  if (errors.length > 0) {
    throw new ApiError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  }
  for (const line of lines) {
    if (line.pricingModel === 'per_item' && !out.has(line.position) && line.quantity !== null) out.set(line.position, line.quantity);
  }
  return out;
}

/**
 * Prices the weigh-in with only what the order stored when it was placed: each line's unit
 * price, model, express rate and add-on prices, and the order's pricing rules. Today's
 * catalog and zone never enter, so a later price change cannot reach a placed order.
 */
export function priceWeighIn(order: Pick<OrderRow, 'express' | 'currency' | 'pricingRules'>, lines: LineRow[], finals: Map<number, number>): AdjustedBreakdown {
  const inputs: LineInput[] = lines.map((l) => ({
    service: {
      id: l.serviceId,
      pricingModel: l.pricingModel,
      unitPrice: l.unitPrice,
      currency: order.currency,
      turnaroundHours: 1,
      expressSurchargeBps: l.expressSurchargeBps,
      expressTurnaroundHours: null,
    },
    ...(l.pricingModel === 'per_kg' ? { weightGrams: finals.get(l.position) } : { quantity: finals.get(l.position) }),
    addOns: l.addOns.map((a) => ({ id: a.id, serviceId: l.serviceId, price: a.price })),
  }));
  // The promo discount and the credit spent at creation (src/domain/credit.ts) apply to the final price too.
  return readjustFinal(storableBreakdown(priceOrder(inputs, { express: order.express }, order.pricingRules)), order.pricingRules);
}

/** The weigh-in statement's answer: the order's state as locked, and whether the weigh-in was written. */
const WeighInRow = z.object({ status: z.string(), weighed_at: z.string().nullable(), ok: z.number() });

/**
 * Records the weigh-in: one read, the pure pricing, then ONE statement that locks the order,
 * sets the final price only if it is still processing and unweighed, writes every line's final
 * measure and total, and appends the `weighed` timeline entry. Of two racing weigh-ins exactly
 * one wins; the other sees the winner's row through the lock and answers 409 `already_weighed`.
 */
export async function weighIn(deps: Deps, orderId: string, input: WeighInInput, actor: StaffActor): Promise<OrderDto> {
  return (await weighInWith(deps, orderId, input, actor)).order;
}

/** Statements a caller runs in the weigh-in's write batch, after the write: they see the weighed order. */
export type AlsoInBatch = (db: Db) => Array<BatchItem<'pg'>>;

/**
 * `weighIn`, with the caller's statements `also` in the same batch as the write (no extra round
 * trip): their raw results, in order, come back as `also`. They run whether or not the weigh-in
 * was accepted, so they must guard their own writes (the fulfilment workflow records the capture
 * attempt only for a weighed order whose hold awaits capture).
 */
export async function weighInWith(deps: Deps, orderId: string, input: WeighInInput, actor: StaffActor, also?: AlsoInBatch): Promise<{ order: OrderDto; also: unknown[] }> {
  const { row, lines, dto } = await loadOrder(deps, orderId);
  if (row.weighedAt) throw alreadyWeighed(row.weighedAt);
  if (row.status !== 'processing') throw notAllowed(row.status);

  const finals = measure(lines, input);
  const final = priceWeighIn(row, lines, finals);
  const now = deps.clock.now().toISOString();
  const updates = lines.map((l, i) => ({
    position: l.position,
    final_weight_grams: l.pricingModel === 'per_kg' ? finals.get(l.position)! : null,
    final_quantity: l.pricingModel === 'per_item' ? finals.get(l.position)! : null,
    final_total: final.lines[i]!.lineTotal,
  }));
  const perKg = updates.filter((u) => u.final_weight_grams !== null);
  const evidence = {
    weightGrams: perKg.length > 0 ? perKg.reduce((sum, u) => sum + u.final_weight_grams!, 0) : null,
    lines: lines.map((l, i) => ({
      position: l.position,
      serviceName: l.serviceName,
      pricingModel: l.pricingModel,
      estimatedWeightGrams: l.estimatedWeightGrams,
      weightGrams: updates[i]!.final_weight_grams,
      estimatedQuantity: l.quantity,
      quantity: updates[i]!.final_quantity,
      estimatedTotal: l.estimatedTotal,
      finalTotal: updates[i]!.final_total,
    })),
    estimatedTotal: row.estimatedTotal,
    finalTotal: final.total,
    difference: final.total - row.estimatedTotal,
  };
  const note = input.note ? input.note : null;

  const write = sql`
    WITH cur AS (
      SELECT id, status, weighed_at FROM orders WHERE id = ${orderId}::uuid FOR UPDATE
    ),
    upd AS (
      UPDATE orders o SET final_breakdown = ${JSON.stringify(final)}::jsonb, final_total = ${final.total}::int,
             credit_applied = ${final.creditApplied ?? 0}::int,
             weighed_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
      FROM cur
      WHERE o.id = cur.id AND cur.status = 'processing' AND cur.weighed_at IS NULL
        AND o.status = 'processing' AND o.weighed_at IS NULL
      RETURNING o.id
    ),
    lns AS (
      UPDATE order_lines l SET final_weight_grams = r.final_weight_grams, final_quantity = r.final_quantity, final_total = r.final_total
      FROM upd, jsonb_to_recordset(${JSON.stringify(updates)}::jsonb)
           AS r(position int, final_weight_grams int, final_quantity int, final_total int)
      WHERE l.order_id = upd.id AND l.position = r.position
      RETURNING l.id
    ),
    ev AS (
      INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, note, evidence)
      SELECT upd.id, ${now}::timestamptz, ${actor.role}::actor_role, ${actor.userId}::uuid, 'weighed', ${note}, ${JSON.stringify(evidence)}::jsonb
      FROM upd
    )${creditUnusedAtWeighIn(row, final.creditApplied ?? 0, now)}
    SELECT cur.status::text AS status, cur.weighed_at,
           CASE
             WHEN NOT EXISTS (SELECT 1 FROM upd) THEN 0
             WHEN (SELECT count(*) FROM lns) <> ${updates.length}::int THEN laundry_abort('weigh_in_lines_changed')
             ELSE 1
           END AS ok
    FROM cur`;
  let rest: unknown[] = [];
  let result: z.infer<typeof WeighInRow> | undefined;
  if (also) {
    const [written, ...others] = (await deps.database.batch((db) => [db.execute(write), ...also(db)] as [BatchItem<'pg'>, ...Array<BatchItem<'pg'>>])) as unknown[];
    [result] = parseRows(WeighInRow, written);
    rest = others;
  } else {
    [result] = await deps.database.rows(WeighInRow, write);
  }
  if (!result) throw new ApiError('not_found', 'No such order.');
  if (result.ok !== 1) throw result.weighed_at ? alreadyWeighed(result.weighed_at) : notAllowed(result.status);

  const entry: TimelineEntryDto = { at: now, actor, type: 'weighed', from: null, to: null, note, evidence };
  const order: OrderDto = {
    ...dto,
    final,
    weighedAt: now,
    updatedAt: now,
    balance: balanceOf({ ...row, finalTotal: final.total }),
    lines: dto.lines.map((l, i) => ({
      ...l,
      finalWeightGrams: updates[i]!.final_weight_grams,
      finalQuantity: updates[i]!.final_quantity,
      finalTotal: updates[i]!.final_total,
    })),
    timeline: [...dto.timeline, entry],
  };
  return { order, also: rest };
}
