import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import type { CachedAddress, CachedService, CachedSlot, CachedZone } from '../../db/order-inputs.js';
import { viewerIsSynthetic } from '../../db/zone-viewer.js';
import { normalizePromoCode, type PromoDefinition } from '../../domain/promo.js';
import type { CreateOrderInput } from './schemas.js';

const id = z.string();
const int = z.number();
/** The statement's one row; each column is JSON built in SQL, so field names are camelCase. */
const ContextRow = z.object({
  idem: z.object({ fingerprint: z.string(), statusCode: int, response: z.unknown() }).nullable(),
  address: z.object({ id, label: z.string().nullable(), line1: z.string(), line2: z.string().nullable(), city: z.string(), postcode: z.string(), instructions: z.string().nullable() }).nullable(),
  viewerSynthetic: z.boolean(),
  zones: z.array(z.object({ id, postcodePrefixes: z.array(z.string()), active: z.boolean(), synthetic: z.boolean(), deliveryFee: int, minimumOrder: int, freeDeliveryFrom: int.nullable() })),
  slots: z.array(z.object({ id, zoneId: id, kind: z.enum(['pickup', 'delivery']), startsAt: z.string(), endsAt: z.string(), capacity: int, reserved: int, cutoffMinutes: int, closed: z.boolean() })),
  promo: z.object({
    id, code: z.string(), kind: z.enum(['percent', 'amount']), value: int, currency: z.string().nullable(), minimumSubtotal: int.nullable(),
    validFrom: z.string().nullable(), validUntil: z.string().nullable(), maxRedemptions: int.nullable(), perCustomerLimit: int,
    firstOrderOnly: z.boolean(), active: z.boolean(),
  }).nullable(),
  creditBalance: int.nullable(),
  services: z.array(z.object({
    id, name: z.string(), pricingModel: z.enum(['per_kg', 'per_item']), unitPrice: int, currency: z.string(), turnaroundHours: int,
    expressSurchargeBps: int.nullable(), expressTurnaroundHours: int.nullable(), active: z.boolean(),
    addOns: z.array(z.object({ id, serviceId: id, name: z.string(), price: int, active: z.boolean() })),
  })),
});

/**
 * The active zones (synthetic ones too) as one jsonb array ordered by id: the matching and
 * pricing fields of each. The order context reads it, and the one-statement write compares it
 * with what it priced on (`jsonb =`: same zones, same fields, same values).
 */
export const zonesJson: SQL = sql`(SELECT coalesce(jsonb_agg(jsonb_build_object('id', z.id, 'postcodePrefixes', z.postcode_prefixes,
    'active', z.active, 'synthetic', z.synthetic, 'deliveryFee', z.delivery_fee, 'minimumOrder', z.minimum_order,
    'freeDeliveryFrom', z.free_delivery_from) ORDER BY z.id), '[]'::jsonb)
  FROM zones z WHERE z.active)`;

/** The named services (a JSON array of uuids) with all their add-ons, as one jsonb array, services and add-ons ordered by id. */
export function servicesJson(serviceIds: string): SQL {
  return sql`(SELECT coalesce(jsonb_agg(jsonb_build_object('id', v.id, 'name', v.name, 'pricingModel', v.pricing_model,
      'unitPrice', v.unit_price, 'currency', v.currency, 'turnaroundHours', v.turnaround_hours,
      'expressSurchargeBps', v.express_surcharge_bps, 'expressTurnaroundHours', v.express_turnaround_hours, 'active', v.active,
      'addOns', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', ao.id, 'serviceId', ao.service_id, 'name', ao.name,
                   'price', ao.price, 'active', ao.active) ORDER BY ao.id), '[]'::jsonb)
                 FROM add_ons ao WHERE ao.service_id = v.id)) ORDER BY v.id), '[]'::jsonb)
    FROM services v WHERE v.id IN (SELECT x::uuid FROM jsonb_array_elements_text(${serviceIds}::jsonb) AS x))`;
}

/**
 * The named promo code's definition as one jsonb object (null when there is none): what the order
 * is priced on, and what the one-statement write compares with what it remembered. Its counters
 * are left out: the write counts the redemption itself (src/modules/orders/create.ts).
 */
export function promoJson(code: string): SQL {
  return sql`(SELECT jsonb_build_object('id', p.id, 'code', p.code, 'kind', p.kind, 'value', p.value, 'currency', p.currency,
      'minimumSubtotal', p.minimum_subtotal, 'validFrom', p.valid_from, 'validUntil', p.valid_until, 'maxRedemptions', p.max_redemptions,
      'perCustomerLimit', p.per_customer_limit, 'firstOrderOnly', p.first_order_only, 'active', p.active)
    FROM promo_codes p WHERE p.code = ${code})`;
}

/** The request's promo code, normalised; undefined when none was sent, '' when it cannot be a code (read as unknown). */
export function promoCodeOf(input: CreateOrderInput): string | undefined {
  return input.promoCode === undefined ? undefined : (normalizePromoCode(input.promoCode) ?? '');
}

/** The distinct service ids an order names, as a JSON array. */
export function serviceIdsOf(input: CreateOrderInput): string[] {
  return [...new Set(input.items.map((i) => i.serviceId))];
}

/**
 * Everything the order depends on, in ONE statement (one round trip, one snapshot): the
 * stored answer for this key, the caller's address, whether the caller is a synthetic user
 * (release probe; `matchZone` then admits synthetic zones only), the active zones, both slots,
 * and the named services with their add-ons, each as JSON. One plain statement instead of a
 * five-query batch: no transaction around it, and no query builder to run per request
 * (building those five cost ~370 µs of CPU per order on Node). What it read is remembered in
 * `deps.orderInputs` for the next order's one-statement path.
 */
export async function readContext(deps: Deps, userId: string, key: string, input: CreateOrderInput): Promise<OrderContext> {
  const serviceIds = JSON.stringify(serviceIdsOf(input));
  const code = promoCodeOf(input);
  const [row] = await deps.database.rows(ContextRow, sql`
    SELECT
      (SELECT json_build_object('fingerprint', k.fingerprint, 'statusCode', k.status_code, 'response', k.response)
         FROM idempotency_keys k WHERE k.user_id = ${userId}::uuid AND k.key = ${key}) AS idem,
      (SELECT json_build_object('id', a.id, 'label', a.label, 'line1', a.line1, 'line2', a.line2, 'city', a.city,
                                'postcode', a.postcode, 'instructions', a.instructions)
         FROM addresses a WHERE a.id = ${input.addressId}::uuid AND a.user_id = ${userId}::uuid) AS address,
      ${viewerIsSynthetic({ userId })} AS "viewerSynthetic",
      ${zonesJson} AS zones,
      (SELECT coalesce(json_agg(json_build_object('id', s.id, 'zoneId', s.zone_id, 'kind', s.kind, 'startsAt', s.starts_at,
                                'endsAt', s.ends_at, 'capacity', s.capacity, 'reserved', s.reserved,
                                'cutoffMinutes', s.cutoff_minutes, 'closed', s.closed)), '[]')
         FROM slots s WHERE s.id IN (${input.pickupSlotId}::uuid, ${input.deliverySlotId}::uuid)) AS slots,
      ${servicesJson(serviceIds)} AS services,
      ${code ? promoJson(code) : sql`NULL::jsonb`} AS promo,
      ${input.useCredit ? sql`(SELECT u.credit_balance FROM users u WHERE u.id = ${userId}::uuid)` : sql`NULL::int`} AS "creditBalance"`);
  if (!row) throw new Error('order context: the statement returned no row');
  const ctx: OrderContext = {
    idem: row.idem ?? undefined,
    address: row.address ? { ...row.address, userId } : undefined,
    viewer: { synthetic: row.viewerSynthetic },
    zoneRows: row.zones,
    slotRows: row.slots.map((r) => ({ ...r, startsAt: new Date(r.startsAt), endsAt: new Date(r.endsAt) })),
    serviceRows: row.services,
    promo: row.promo ?? undefined,
    creditBalance: row.creditBalance ?? 0,
  };
  const cache = deps.orderInputs;
  if (row.promo) cache.putPromo(row.promo);
  else if (code) cache.forgetPromo(code);
  if (input.useCredit) cache.putCreditBalance(userId, ctx.creditBalance);
  if (ctx.address) cache.putAddress(ctx.address);
  else cache.forget('address', [input.addressId]);
  // Rows the read proved gone are forgotten, or every later order naming them tries them again (one wasted round trip each).
  cache.forget('slot', [input.pickupSlotId, input.deliverySlotId].filter((id) => !ctx.slotRows.some((s) => s.id === id)));
  cache.forget('service', serviceIdsOf(input).filter((id) => !ctx.serviceRows.some((s) => s.id === id)));
  cache.putViewerSynthetic(userId, ctx.viewer.synthetic);
  cache.putZones(ctx.zoneRows);
  for (const s of ctx.slotRows) cache.putSlot(s);
  for (const s of ctx.serviceRows) cache.putService(s);
  return ctx;
}

/**
 * The rows an order is planned on: read afresh (`readContext`), or remembered (`cachedContext`),
 * in which case the write re-checks each of them.
 */
export interface OrderContext {
  idem: { fingerprint: string; statusCode: number; response: unknown } | undefined;
  address: CachedAddress | undefined;
  viewer: { synthetic: boolean };
  zoneRows: CachedZone[];
  slotRows: CachedSlot[];
  serviceRows: CachedService[];
  /** The named promo code's definition; undefined when none was named or there is no such code. */
  promo: PromoDefinition | undefined;
  /** The caller's credit balance when the order asks to use credit (`useCredit`), else 0. */
  creditBalance: number;
}

/**
 * The context from `deps.orderInputs` alone, or undefined when any row is not remembered (then
 * the order is read afresh). A user whose flag is not remembered is taken as not synthetic;
 * the write checks that too.
 */
export function cachedContext(deps: Deps, userId: string, input: CreateOrderInput): OrderContext | undefined {
  const cache = deps.orderInputs;
  const address = cache.address(input.addressId, userId);
  const zoneRows = cache.zones();
  const pickup = cache.slot(input.pickupSlotId);
  const delivery = cache.slot(input.deliverySlotId);
  if (!address || !zoneRows || !pickup || !delivery) return undefined;
  const serviceRows: CachedService[] = [];
  for (const id of serviceIdsOf(input)) {
    const s = cache.service(id);
    if (!s) return undefined;
    serviceRows.push(s);
  }
  const code = promoCodeOf(input);
  const promo = code ? cache.promo(code) : undefined;
  if (code !== undefined && !promo) return undefined;
  const creditBalance = input.useCredit ? cache.creditBalance(userId) : 0;
  if (creditBalance === undefined) return undefined;
  return {
    idem: undefined,
    address,
    viewer: { synthetic: cache.viewerSynthetic(userId) ?? false },
    zoneRows,
    slotRows: pickup.id === delivery.id ? [pickup] : [pickup, delivery],
    serviceRows,
    promo,
    creditBalance,
  };
}

/**
 * One row, one column `stale`: the names of the remembered rows (`cachedContext`) the database
 * no longer agrees with, empty when every one holds: `address` (gone, another owner's, or
 * edited), `viewer` (the user's synthetic flag), `zones` (any active zone added, removed or
 * edited: matching and fees), `services` (a named service or one of its add-ons edited) and
 * `slots` (a slot gone or its zone, kind, times or cut-off changed; capacity, closing and
 * cut-off against now are the reservation's own checks), `promo` (the named code's definition
 * edited; its counters are the redemption's own checks) and `credit` (the balance moved).
 */
export function staleRows(userId: string, input: CreateOrderInput, ctx: OrderContext) {
  const a = ctx.address!;
  const slots = JSON.stringify(ctx.slotRows.map((s) => ({
    id: s.id, zone_id: s.zoneId, kind: s.kind, starts_at: s.startsAt.toISOString(), ends_at: s.endsAt.toISOString(), cutoff_minutes: s.cutoffMinutes,
  })));
  return sql`SELECT array_remove(ARRAY[
      CASE WHEN EXISTS (SELECT 1 FROM addresses a WHERE a.id = ${a.id}::uuid AND a.user_id = ${userId}::uuid
             AND a.label IS NOT DISTINCT FROM ${a.label} AND a.line1 = ${a.line1} AND a.line2 IS NOT DISTINCT FROM ${a.line2}
             AND a.city = ${a.city} AND a.postcode = ${a.postcode} AND a.instructions IS NOT DISTINCT FROM ${a.instructions})
           THEN NULL ELSE 'address' END,
      CASE WHEN ${viewerIsSynthetic({ userId })} = ${ctx.viewer.synthetic}::boolean THEN NULL ELSE 'viewer' END,
      CASE WHEN ${zonesJson} = ${JSON.stringify(ctx.zoneRows)}::jsonb THEN NULL ELSE 'zones' END,
      CASE WHEN ${servicesJson(JSON.stringify(serviceIdsOf(input)))} = ${JSON.stringify([...ctx.serviceRows].sort(byId))}::jsonb
           THEN NULL ELSE 'services' END,
      CASE WHEN (SELECT count(*) FROM slots s
                 JOIN jsonb_to_recordset(${slots}::jsonb) AS x(id uuid, zone_id uuid, kind text, starts_at timestamptz, ends_at timestamptz, cutoff_minutes int)
                   ON s.id = x.id AND s.zone_id = x.zone_id AND s.kind::text = x.kind
                  -- JavaScript dates hold milliseconds; a slot written with microseconds (direct SQL) still matches.
                  AND date_trunc('milliseconds', s.starts_at) = x.starts_at AND date_trunc('milliseconds', s.ends_at) = x.ends_at AND s.cutoff_minutes = x.cutoff_minutes) = ${ctx.slotRows.length}::int
           THEN NULL ELSE 'slots' END,
      ${ctx.promo ? sql`CASE WHEN ${promoJson(ctx.promo.code)} = ${JSON.stringify(ctx.promo)}::jsonb THEN NULL ELSE 'promo' END` : sql`NULL`},
      ${input.useCredit ? sql`CASE WHEN (SELECT u.credit_balance FROM users u WHERE u.id = ${userId}::uuid) = ${ctx.creditBalance}::int THEN NULL ELSE 'credit' END` : sql`NULL`}
    ]::text[], NULL) AS stale`;
}

const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
