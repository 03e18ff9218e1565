/**
 * Private to the zones module: rows of zones and slots → the admin API's shapes (./schemas.ts),
 * the RETURNING list raw-SQL slot writes share, and the one "no such zone" error.
 */
import { z } from 'zod';
import { sql } from 'drizzle-orm';
import type { zones } from '../../db/schema.js';
import { isoOf } from '../../db/timestamps.js';
import type { SlotKind } from '../../domain/slots.js';
import { currencyRules, isBelowMinimum, isChargeableAmount } from '../../domain/currency.js';
import { ApiError } from '../../errors.js';
import { cutoffAtOf } from '../scheduling/slot-times.js';
import type { AdminSlotDto, ZoneDto } from './schemas.js';

type ZoneRow = typeof zones.$inferSelect;

export function toZoneDto(z: ZoneRow): ZoneDto {
  return {
    id: z.id,
    name: z.name,
    postcodePrefixes: z.postcodePrefixes,
    timeZone: z.timeZone,
    active: z.active,
    synthetic: z.synthetic,
    deliveryFee: z.deliveryFee,
    minimumOrder: z.minimumOrder,
    freeDeliveryFrom: z.freeDeliveryFrom,
    missedPickupFee: z.missedPickupFee,
    createdAt: isoOf(z.createdAt),
    updatedAt: isoOf(z.updatedAt),
  };
}

export interface SlotLike {
  id: string;
  zoneId: string;
  kind: SlotKind;
  startsAt: Date | string;
  endsAt: Date | string;
  capacity: number;
  reserved: number;
  cutoffMinutes: number;
  closed: boolean;
}

/** A slot as SLOT_COLUMNS reads it back through `Database.rows`: checked as it enters. */
export const SlotRow = z.object({
  id: z.string(),
  zoneId: z.string(),
  kind: z.enum(['pickup', 'delivery']),
  startsAt: z.string(),
  endsAt: z.string(),
  capacity: z.number(),
  reserved: z.number(),
  cutoffMinutes: z.number(),
  closed: z.boolean(),
});

export function toAdminSlot(s: SlotLike): AdminSlotDto {
  return {
    id: s.id,
    zoneId: s.zoneId,
    kind: s.kind,
    startsAt: isoOf(s.startsAt),
    endsAt: isoOf(s.endsAt),
    capacity: s.capacity,
    reserved: s.reserved,
    remaining: s.capacity - s.reserved,
    cutoffMinutes: s.cutoffMinutes,
    cutoffAt: cutoffAtOf(s.startsAt, s.cutoffMinutes),
    closed: s.closed,
  };
}

/** Raw-SQL RETURNING list shaped like `SlotLike`. */
export const SLOT_COLUMNS = sql.raw(
  `id, zone_id AS "zoneId", kind, starts_at AS "startsAt", ends_at AS "endsAt", capacity, reserved, cutoff_minutes AS "cutoffMinutes", closed`,
);

/** 404 `not_found` for a zone id that names no zone. */
export const noZone = () => new ApiError('not_found', 'No such zone.');

/**
 * A missed-pickup fee must be one Stripe can charge in the shop's currency (0, or at least its
 * minimum charge and a whole multiple of its step), so that marking a pickup missed never leaves
 * a balance no one can collect. 422 `validation_failed` on `body.missedPickupFee` otherwise.
 */
export function checkMissedPickupFee(currency: string, fee: number | undefined): void {
  if (fee === undefined || fee === 0 || !currencyRules(currency)) return;
  if (isBelowMinimum(currency, fee) || !isChargeableAmount(currency, fee)) {
    const message = `must be 0, or an amount Stripe can charge in ${currency} (its minimum charge or more, in whole steps)`;
    throw new ApiError('validation_failed', `body.missedPickupFee: ${message}`, [{ field: 'body.missedPickupFee', message }]);
  }
}
